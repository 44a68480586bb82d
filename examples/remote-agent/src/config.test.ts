import { describe, expect, it } from 'vitest';
import { defaultAgentName, readConfig } from './config.js';

const base = {
  FORGE_HUB_URL: 'https://hub.example.com:4100',
  FORGE_PROVIDER: 'claude-code',
  FORGE_AGENT_NAME: 'box',
  HOME: '/home/alice',
};

describe('readConfig', () => {
  it('reads the environment, with the credential file under ~/.config/forge by default', () => {
    expect(readConfig({ ...base, XDG_CONFIG_HOME: '' }, '/work')).toEqual({
      hubUrl: 'https://hub.example.com:4100',
      credentialFile: expect.stringMatching(/\/\.config\/forge\/agent\.json$/),
      name: 'box',
      provider: 'claude-code',
      cwd: '/work',
      allowAttach: true,
    });
    expect(readConfig({ ...base, FORGE_ALLOW_ATTACH: '0' }).allowAttach).toBe(false);
    expect(readConfig({ ...base, FORGE_ALLOW_ATTACH: 'true' }).allowAttach).toBe(true);
    expect(readConfig({ ...base, XDG_CONFIG_HOME: '/cfg' }).credentialFile).toBe('/cfg/forge/agent.json');
    expect(
      readConfig({
        ...base,
        FORGE_CREDENTIAL_FILE: '/etc/forge/a.json',
        FORGE_ENROLMENT_TOKEN: 'fdh1.x.y',
        FORGE_MAX_ATTEMPTS: '5',
        FORGE_PERMISSION_MODE: 'plan',
      }),
    ).toMatchObject({
      credentialFile: '/etc/forge/a.json',
      enrolmentToken: 'fdh1.x.y',
      maxAttempts: 5,
      permissionMode: 'plan',
    });
  });

  it('refuses what cannot work, naming the variable', () => {
    const code = (env: Record<string, string>) => {
      try {
        readConfig({ ...base, ...env });
        return 'ok';
      } catch (error) {
        return `${(error as { code: string }).code}:${(error as { issues: Array<{ path: string }> }).issues[0]!.path}`;
      }
    };
    expect(code({ FORGE_HUB_URL: '' })).toBe('INVALID_CONFIG:FORGE_HUB_URL');
    expect(code({ FORGE_HUB_URL: 'hub.example.com' })).toBe('INVALID_CONFIG:FORGE_HUB_URL');
    expect(code({ FORGE_PROVIDER: 'gpt' })).toBe('INVALID_CONFIG:FORGE_PROVIDER');
    expect(code({ FORGE_AGENT_NAME: 'has space' })).toBe('INVALID_CONFIG:FORGE_AGENT_NAME');
    expect(code({ FORGE_PERMISSION_MODE: 'yolo' })).toBe('INVALID_CONFIG:FORGE_PERMISSION_MODE');
    expect(code({ FORGE_MAX_ATTEMPTS: '0' })).toBe('INVALID_CONFIG:FORGE_MAX_ATTEMPTS');
    expect(code({ FORGE_ALLOW_ATTACH: 'maybe' })).toBe('INVALID_CONFIG:FORGE_ALLOW_ATTACH');
    expect(code({ FORGE_PREWARM: 'maybe' })).toBe('INVALID_CONFIG:FORGE_PREWARM');
  });

  it('FORGE_PREWARM=1 keeps the CLI started for the next new session', () => {
    expect(readConfig({ ...base, FORGE_PREWARM: '1' }).prewarm).toBe(true);
    expect(readConfig({ ...base, FORGE_PREWARM: '0' }).prewarm).toBe(false);
    expect(readConfig(base).prewarm).toBeUndefined();
  });

  it('makes a valid agent name of the host name', () => {
    expect(defaultAgentName('alice-laptop.local')).toBe('alice-laptop.local');
    expect(defaultAgentName("Bob's MacBook Pro")).toBe('Bob-s-MacBook-Pro');
    expect(defaultAgentName('---')).toBe('remote-agent');
  });
});
