import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@forge/core';
import { afterAll, describe, expect, it } from 'vitest';
import { dropSecretsFromEnv, loadConfig } from './config.js';
import { defaultMaxRunning } from './runs/max-running.js';

describe('loadConfig', () => {
  it('has defaults that run on a fresh machine', () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      backend: 'local',
      rateLimitPerMinute: 100,
      maxAgentsPerKey: 10,
      webhookAllowPrivate: false,
      defaultProvider: 'claude-code',
      hubPort: undefined,
    });
    expect(c.apiKeys).toEqual([]);
  });

  it('limits requests per client address only when FORGE_RATE_LIMIT_PER_ADDRESS says so', () => {
    expect(loadConfig([], {}).rateLimitPerAddress).toBe(0);
    expect(loadConfig([], { FORGE_RATE_LIMIT_PER_ADDRESS: '600' }).rateLimitPerAddress).toBe(600);
    expect(() => loadConfig([], { FORGE_RATE_LIMIT_PER_ADDRESS: '-1' })).toThrow(/FORGE_RATE_LIMIT_PER_ADDRESS/);
  });

  it('ends a handed-over run whose agent never comes back after FORGE_HANDOVER_WAIT_MS (default 3 min)', () => {
    expect(loadConfig([], {}).handoverWaitMs).toBe(180_000);
    expect(loadConfig([], { FORGE_HANDOVER_WAIT_MS: '5000' }).handoverWaitMs).toBe(5_000);
    expect(() => loadConfig([], { FORGE_HANDOVER_WAIT_MS: '10' })).toThrow(/FORGE_HANDOVER_WAIT_MS/);
  });

  it('runs at once: FORGE_MAX_RUNNING, --max-running over it, else 16 per core', () => {
    expect(loadConfig([], {}).maxRunning).toBe(defaultMaxRunning());
    expect(loadConfig([], {}).pgliteWorker).toBe(true);
    expect(loadConfig([], { FORGE_PGLITE_WORKER: '0' }).pgliteWorker).toBe(false);
    expect(loadConfig([], { FORGE_PGLITE_WORKER: '1' }).pgliteWorker).toBe(true);
    expect(() => loadConfig([], { FORGE_PGLITE_WORKER: 'yes' })).toThrow(/FORGE_PGLITE_WORKER/);
    expect(loadConfig([], { FORGE_MAX_RUNNING: '500' }).maxRunning).toBe(500);
    expect(loadConfig(['--max-running', '1000'], { FORGE_MAX_RUNNING: '500' }).maxRunning).toBe(1000);
  });

  it('reads the environment, and flags win over it', () => {
    const c = loadConfig(['--port', '9001', '--max-agents', '3'], {
      FORGE_PORT: '7000',
      FORGE_HOST: '0.0.0.0',
      FORGE_API_KEYS: 'u1:key-one-1,u2:key-two-2',
      FORGE_RATE_LIMIT: '5',
      FORGE_WEBHOOK_ALLOW_PRIVATE: '127.0.0.1, 10.0.0.0/8',
      FORGE_BACKEND: 'k8s',
    });
    expect(c).toMatchObject({
      port: 9001,
      host: '0.0.0.0',
      rateLimitPerMinute: 5,
      maxAgentsPerKey: 3,
      backend: 'k8s',
      webhookAllowPrivate: ['127.0.0.1', '10.0.0.0/8'],
    });
    expect(c.apiKeys.map((k) => k.userId)).toEqual(['u1', 'u2']);
  });

  it('reads the Codex, Gemini and ACP providers', () => {
    const c = loadConfig([], {
      FORGE_CODEX_BIN: '/opt/codex',
      FORGE_CODEX_BASE_URL: 'http://llm.internal/v1',
      FORGE_GEMINI_BIN: '/opt/gemini',
      FORGE_ACP_COMMAND: '/opt/agent',
      FORGE_ACP_ARGS: '["--acp", "a b"]',
    });
    expect(c).toMatchObject({
      codexBin: '/opt/codex',
      codexProvider: { baseUrl: 'http://llm.internal/v1', envKey: 'OPENAI_API_KEY' },
      geminiBin: '/opt/gemini',
      acp: { command: '/opt/agent', args: ['--acp', 'a b'] },
    });
    expect(loadConfig([], {})).toMatchObject({ codexBin: 'codex', geminiBin: 'gemini' });
    expect(loadConfig([], {}).acp).toBeUndefined();
    expect(() => loadConfig([], { FORGE_ACP_COMMAND: 'x', FORGE_ACP_ARGS: '--acp' })).toThrow(/FORGE_ACP_ARGS/);
  });

  it('takes the URL remote agents dial the hub at, for tokens issued behind a load balancer', () => {
    const c = loadConfig(['--hub-public-url', 'https://forge-hub.example.com:443'], {
      FORGE_HUB_PORT: '4100',
      FORGE_HUB_SECRET: 'x'.repeat(32),
    });
    expect(c).toMatchObject({ hubPort: 4100, hubPublicUrl: 'https://forge-hub.example.com:443' });
    expect(loadConfig([], {}).hubPublicUrl).toBeUndefined();
  });

  it('refuses bad values with INVALID_CONFIG', () => {
    expect(() => loadConfig(['--port', 'eighty'], {})).toThrow(ValidationError);
    expect(() => loadConfig([], { FORGE_BACKEND: 'docker' })).toThrow(/local or k8s/);
    expect(() => loadConfig([], { FORGE_RATE_LIMIT: '0' })).toThrow(/--rate-limit \/ FORGE_RATE_LIMIT/);
    expect(() => loadConfig([], { FORGE_HUB_PORT: '0', FORGE_HUB_SECRET: 'short' })).toThrow(/32 bytes/);
    expect(() => loadConfig(['--nope'], {})).toThrow();
  });

  it.each([
    [['--rate-limit', '0'], {}, '--rate-limit / FORGE_RATE_LIMIT'],
    [[], { FORGE_RATE_LIMIT: '0' }, '--rate-limit / FORGE_RATE_LIMIT'],
    [[], { FORGE_MAX_AGENTS: 'many' }, '--max-agents / FORGE_MAX_AGENTS'],
    [[], { FORGE_MAX_RUNNING: '0' }, '--max-running / FORGE_MAX_RUNNING'],
    [[], { FORGE_PORT: '70000' }, '--port / FORGE_PORT'],
    [[], { FORGE_HUB_PORT: '-1', FORGE_HUB_SECRET: 'x'.repeat(32) }, '--hub-port / FORGE_HUB_PORT'],
    [[], { FORGE_HUB_PORT: '0' }, 'FORGE_HUB_SECRET'],
    [
      [],
      { FORGE_HUB_PORT: '0', FORGE_HUB_SECRET: 'x'.repeat(32), FORGE_HUB_PUBLIC_URL: 'hub:4100' },
      '--hub-public-url / FORGE_HUB_PUBLIC_URL',
    ],
    [[], { FORGE_HUB_PUBLIC_URL: 'https://hub.example.com' }, '--hub-public-url / FORGE_HUB_PUBLIC_URL'],
    [[], { FORGE_CREATE_TIMEOUT_MS: '0' }, 'FORGE_CREATE_TIMEOUT_MS'],
    [[], { FORGE_WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/99' }, '--webhook-allow-private / FORGE_WEBHOOK_ALLOW_PRIVATE'],
    [['--webhook-allow-private', '10.0.0.0/x'], {}, '--webhook-allow-private / FORGE_WEBHOOK_ALLOW_PRIVATE'],
    [[], { FORGE_BACKEND: 'docker' }, '--backend / FORGE_BACKEND'],
  ])('%j %j: the error names the flag and the variable, not the option', (argv, env, names) => {
    let caught: unknown;
    try {
      loadConfig(argv, env as NodeJS.ProcessEnv);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect(caught).toMatchObject({ code: 'INVALID_CONFIG' });
    expect((caught as Error).message).toContain(names);
    expect((caught as Error).message).not.toMatch(/rateLimit|maxAgents|allowPrivateNetworks|createTimeoutMs|hubPort/);
  });

  it('refuses an unknown flag as UNKNOWN_FIELD, with the closest known one', () => {
    let caught: unknown;
    try {
      loadConfig(['--rate-limt', '5'], {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect(caught).toMatchObject({ code: 'UNKNOWN_FIELD' });
    expect((caught as Error).message).toContain('--rate-limt');
    expect((caught as Error).message).toContain('did you mean --rate-limit');
  });

  it("drops the platform's secrets from the environment once read, and keeps the rest", () => {
    const env: NodeJS.ProcessEnv = {
      FORGE_API_KEYS: 'u1:key-one-1',
      FORGE_HUB_SECRET: 'x'.repeat(32),
      FORGE_HUB_PORT: '0',
      FORGE_DATABASE_URL: 'postgres://u:p@h/db',
      DATABASE_URL: 'postgres://u:p@h/db',
      FORGE_WEBHOOK_SECRET: 'whsec_abc',
      FORGE_K8S_ENV_FROM_SECRETS: 'model-keys',
      ANTHROPIC_API_KEY: 'for-the-agents',
      PATH: '/usr/bin',
    };
    const config = loadConfig([], env);
    expect(dropSecretsFromEnv(env).sort()).toEqual([
      'DATABASE_URL',
      'FORGE_API_KEYS',
      'FORGE_DATABASE_URL',
      'FORGE_HUB_SECRET',
      'FORGE_WEBHOOK_SECRET',
    ]);
    expect(env).toEqual({
      FORGE_HUB_PORT: '0',
      FORGE_K8S_ENV_FROM_SECRETS: 'model-keys',
      ANTHROPIC_API_KEY: 'for-the-agents',
      PATH: '/usr/bin',
    });
    expect(config.apiKeys).toHaveLength(1);
    expect(config.hubSecret).toBe('x'.repeat(32));
  });

  describe('secrets from files (<NAME>_FILE)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-config-secrets-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    };

    it('reads the hub secret and the database URL from files, without the trailing newline', () => {
      const hub = file('hub', `${'h'.repeat(40)}\n`);
      const db = file('db', 'postgres://u:pw@db/forge\n');
      const keys = file('keys', JSON.stringify([{ user: 'alice', key: 'alice-key-1234' }]));
      const c = loadConfig([], {
        FORGE_HUB_PORT: '0',
        FORGE_HUB_SECRET_FILE: hub,
        FORGE_DATABASE_URL_FILE: db,
        FORGE_API_KEYS_FILE: keys,
      });
      expect(c.hubSecret).toBe('h'.repeat(40));
      expect(c.databaseUrl).toBe('postgres://u:pw@db/forge');
      expect(c.apiKeys.map((k) => k.userId)).toEqual(['alice']);
      expect(c.secretSources).toEqual([
        { name: 'FORGE_API_KEYS', from: 'file', path: keys, setting: 'FORGE_API_KEYS_FILE' },
        { name: 'FORGE_HUB_SECRET', from: 'file', path: hub, setting: 'FORGE_HUB_SECRET_FILE' },
        { name: 'FORGE_DATABASE_URL', from: 'file', path: db, setting: 'FORGE_DATABASE_URL_FILE' },
      ]);
    });

    it('refuses a secret given both ways, and says which to keep', () => {
      const path = file('any', 'x'.repeat(40));
      const both: [string[], Record<string, string>, string][] = [
        [
          [],
          { FORGE_HUB_SECRET: 'x'.repeat(40), FORGE_HUB_SECRET_FILE: path },
          'FORGE_HUB_SECRET and FORGE_HUB_SECRET_FILE',
        ],
        [
          [],
          { FORGE_DATABASE_URL: 'postgres://h/db', FORGE_DATABASE_URL_FILE: path },
          'FORGE_DATABASE_URL and FORGE_DATABASE_URL_FILE',
        ],
        [[], { FORGE_API_KEYS: 'u:key-one-1', FORGE_API_KEYS_FILE: path }, 'FORGE_API_KEYS and FORGE_API_KEYS_FILE'],
        [['--api-keys-file', path], { FORGE_API_KEYS: 'u:key-one-1' }, 'FORGE_API_KEYS and --api-keys-file'],
      ];
      for (const [argv, env, named] of both) {
        let caught: unknown;
        try {
          loadConfig(argv, env);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(ValidationError);
        expect(caught).toMatchObject({ code: 'INVALID_CONFIG' });
        expect((caught as Error).message).toContain(`both ${named} are set; keep only the file`);
      }
    });

    it('names the setting when its file cannot be read or is empty', () => {
      expect(() => loadConfig([], { FORGE_HUB_SECRET_FILE: join(dir, 'missing') })).toThrow(
        /FORGE_HUB_SECRET_FILE: cannot read ".*missing"/,
      );
      expect(() => loadConfig([], { FORGE_DATABASE_URL_FILE: file('empty', '\n') })).toThrow(
        /FORGE_DATABASE_URL_FILE: ".*empty" is empty/,
      );
    });

    it('notes secrets from the environment, and a password on the command line', () => {
      const c = loadConfig(['--database-url', 'postgres://u:pw@db/forge'], { FORGE_API_KEYS: 'u:key-one-1' });
      expect(c.databaseUrl).toBe('postgres://u:pw@db/forge');
      expect(c.secretSources).toEqual([
        { name: 'FORGE_API_KEYS', from: 'env', setting: 'FORGE_API_KEYS' },
        { name: 'FORGE_DATABASE_URL', from: 'argv', setting: '--database-url' },
      ]);
      expect(loadConfig(['--database-url', 'postgres://db/forge'], {}).secretSources).toEqual([]);
    });
  });

  it('takes FORGE_AGENT_USER for the local backend only', () => {
    expect(loadConfig([], { FORGE_AGENT_USER: 'forge-agent' }).agentUser).toBe('forge-agent');
    expect(loadConfig([], {}).agentUser).toBeUndefined();
    expect(() => loadConfig([], { FORGE_AGENT_USER: 'forge-agent', FORGE_BACKEND: 'k8s' })).toThrow(
      /FORGE_AGENT_USER: applies to the local backend only/,
    );
  });

  it('reads the MCP catalogue file and the attachment cap, and refuses a bad catalogue', () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-mcp-config-'));
    try {
      const file = join(dir, 'mcp.json');
      writeFileSync(file, JSON.stringify({ servers: [{ name: 'nonce', command: 'node', args: ['s.mjs'] }] }));
      const c = loadConfig([], { FORGE_MCP_SERVERS: file, FORGE_MAX_ATTACHMENT_BYTES: '1024' });
      expect(c.mcpServers).toEqual([{ name: 'nonce', command: 'node', args: ['s.mjs'] }]);
      expect(c.maxAttachmentBytes).toBe(1024);
      expect(loadConfig([], {})).toMatchObject({ mcpServers: [], maxAttachmentBytes: 5 * 1024 * 1024 });
      writeFileSync(file, JSON.stringify([{ name: 'both', command: 'node', url: 'http://x/' }]));
      expect(() => loadConfig([], { FORGE_MCP_SERVERS: file })).toThrow(
        /FORGE_MCP_SERVERS: .*command \(stdio\) or a url/,
      );
      writeFileSync(file, '{ nope');
      expect(() => loadConfig([], { FORGE_MCP_SERVERS: file })).toThrow(/FORGE_MCP_SERVERS: not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the operator’s default approvals and budget, checked with core’s schemas', () => {
    const c = loadConfig([], {
      FORGE_DEFAULT_APPROVALS: '{"rules":[{"tool":"Bash","input":{"command":"rm *"},"decision":"deny"}]}',
      FORGE_DEFAULT_BUDGET: '{"maxTokens":100000}',
    });
    expect(c.runDefaults).toEqual({
      approvals: { rules: [{ tool: 'Bash', input: { command: 'rm *' }, decision: 'deny' }] },
      budget: { maxTokens: 100_000 },
    });
    expect(loadConfig([], {}).runDefaults).toEqual({});
    expect(() => loadConfig([], { FORGE_DEFAULT_BUDGET: '{"maxTokens":-1}' })).toThrow(
      /FORGE_DEFAULT_BUDGET: maxTokens/,
    );
    expect(() => loadConfig([], { FORGE_DEFAULT_APPROVALS: '{"defualt":"allow"}' })).toThrow(/FORGE_DEFAULT_APPROVALS/);
    expect(() => loadConfig([], { FORGE_DEFAULT_BUDGET: 'x' })).toThrow(/FORGE_DEFAULT_BUDGET: not JSON/);
  });
});
