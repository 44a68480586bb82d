import { ValidationError } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { readConfig } from './config.js';

describe('readConfig', () => {
  it('applies the defaults a pod needs', () => {
    expect(readConfig({ FORGE_PROVIDER: 'claude-code' }, '/srv')).toEqual({
      provider: 'claude-code',
      port: 8080,
      host: '0.0.0.0',
      cwd: '/srv',
      opencodePort: 4096,
      graceMs: 25_000,
      detachedRunTtlMs: 120_000,
    });
  });

  it('reads every variable', () => {
    const config = readConfig(
      {
        FORGE_PROVIDER: 'opencode',
        PORT: '9000',
        HOST: '127.0.0.1',
        FORGE_CWD: '/workspace',
        FORGE_MODEL: 'anthropic/claude-sonnet',
        FORGE_PERMISSION_MODE: 'acceptEdits',
        FORGE_BIN: '/usr/local/bin/opencode',
        OPENCODE_URL: 'http://127.0.0.1:4096',
        OPENCODE_PORT: '4097',
        FORGE_GRACE_MS: '1000',
        FORGE_DETACHED_RUN_TTL_MS: '5000',
        FORGE_AUTH_TOKEN: 't',
        FORGE_MAX_RUNS: '2',
      },
      '/',
    );
    expect(config).toMatchObject({
      provider: 'opencode',
      port: 9000,
      cwd: '/workspace',
      model: 'anthropic/claude-sonnet',
      opencodePort: 4097,
      graceMs: 1000,
      detachedRunTtlMs: 5000,
      authToken: 't',
      maxRuns: 2,
    });
  });

  it.each([
    [{}, 'FORGE_PROVIDER'],
    [{ FORGE_PROVIDER: 'nope' }, 'FORGE_PROVIDER'],
    [{ FORGE_PROVIDER: 'acp' }, 'FORGE_ACP_COMMAND'],
    [{ FORGE_PROVIDER: 'acp', FORGE_ACP_COMMAND: 'x', FORGE_ACP_ARGS: '--acp' }, 'FORGE_ACP_ARGS'],
    [{ FORGE_PROVIDER: 'acp', FORGE_ACP_COMMAND: 'x', FORGE_ACP_ARGS: '[1]' }, 'FORGE_ACP_ARGS'],
    [{ FORGE_PROVIDER: 'scripted', PORT: 'eighty' }, 'PORT'],
    [{ FORGE_PROVIDER: 'scripted', PORT: '70000' }, 'PORT'],
    [{ FORGE_PROVIDER: 'scripted', FORGE_MAX_RUNS: '0' }, 'FORGE_MAX_RUNS'],
    [{ FORGE_PROVIDER: 'scripted', FORGE_TLS_CERT_FILE: '/c.pem' }, 'FORGE_TLS_KEY_FILE'],
    [{ FORGE_PROVIDER: 'codex', FORGE_CODEX_SANDBOX: 'none' }, 'FORGE_CODEX_SANDBOX'],
    [{ FORGE_PROVIDER: 'codex', FORGE_CODEX_BASE_URL: 'llm.internal' }, 'FORGE_CODEX_BASE_URL'],
  ])('refuses %o, naming %s', (env, variable) => {
    try {
      readConfig(env as NodeJS.ProcessEnv);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.path).toBe(variable);
      expect((error as Error).message).toContain(variable);
    }
  });

  it('reads the ACP and Gemini settings', () => {
    expect(
      readConfig({
        FORGE_PROVIDER: 'acp',
        FORGE_ACP_COMMAND: '/usr/bin/my-agent',
        FORGE_ACP_ARGS: '["--acp", "--flag=a b"]',
        FORGE_PASS_ENV: 'MY_KEY, MY_*',
        FORGE_GEMINI_HOME: '/home/gemini',
      }),
    ).toMatchObject({
      provider: 'acp',
      acpCommand: '/usr/bin/my-agent',
      acpArgs: ['--acp', '--flag=a b'],
      passEnv: ['MY_KEY', 'MY_*'],
      geminiHome: '/home/gemini',
    });
  });

  it('reads the Codex settings', () => {
    expect(
      readConfig({
        FORGE_PROVIDER: 'codex',
        FORGE_CODEX_BASE_URL: 'http://llm.internal/v1',
        FORGE_CODEX_KEY_ENV: 'LLM_KEY',
        FORGE_CODEX_SANDBOX: 'workspace-write',
      }),
    ).toMatchObject({
      provider: 'codex',
      codexBaseUrl: 'http://llm.internal/v1',
      codexKeyEnv: 'LLM_KEY',
      codexSandbox: 'workspace-write',
    });
  });

  it('FORGE_PREWARM=1 keeps the CLI started for the next new session; other values are refused', () => {
    expect(readConfig({ FORGE_PROVIDER: 'claude-code', FORGE_PREWARM: '1' }).prewarm).toBe(true);
    expect(readConfig({ FORGE_PROVIDER: 'claude-code', FORGE_PREWARM: '0' }).prewarm).toBe(false);
    expect(readConfig({ FORGE_PROVIDER: 'claude-code' }).prewarm).toBeUndefined();
    expect(() => readConfig({ FORGE_PROVIDER: 'claude-code', FORGE_PREWARM: 'yes' })).toThrow(/FORGE_PREWARM/);
  });

  it('refuses a permission mode the agents do not know', () => {
    expect(() => readConfig({ FORGE_PROVIDER: 'claude-code', FORGE_PERMISSION_MODE: 'yolo' })).toThrow(
      /FORGE_PERMISSION_MODE must be one of default, acceptEdits/,
    );
  });
});
