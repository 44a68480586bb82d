import { ValidationError } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

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

  it('refuses bad values with INVALID_CONFIG', () => {
    expect(() => loadConfig(['--port', 'eighty'], {})).toThrow(ValidationError);
    expect(() => loadConfig([], { FORGE_BACKEND: 'docker' })).toThrow(/local or k8s/);
    expect(() => loadConfig([], { FORGE_RATE_LIMIT: '0' })).toThrow(/rateLimit/);
    expect(() => loadConfig([], { FORGE_HUB_PORT: '0', FORGE_HUB_SECRET: 'short' })).toThrow(/32 bytes/);
    expect(() => loadConfig(['--nope'], {})).toThrow();
  });
});
