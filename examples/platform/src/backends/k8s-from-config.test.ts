import { createProviderRegistry, silentLogger } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { AGENT_POD_PROVIDERS, k8sBackendFromConfig } from './k8s-from-config.js';

describe('k8sBackendFromConfig', () => {
  it('offers the providers the agent-pod image serves', () => {
    expect(AGENT_POD_PROVIDERS).toEqual(['claude-code', 'opencode', 'scripted']);
  });

  it('builds the backend from configuration without contacting a cluster', async () => {
    const config = loadConfig(['--backend', 'k8s'], {
      FORGE_K8S_NAMESPACE: 'agents',
      FORGE_K8S_IMAGE: 'registry.example/forge-agent-pod:1',
    });
    const backend = await k8sBackendFromConfig(config, createProviderRegistry(), silentLogger);
    expect(backend.kind).toBe('k8s');
    await expect(backend.create({ userId: 'alice', provider: 'gemini', timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'UNKNOWN_PROVIDER',
    });
    await backend.close();
  });

  it('names the Secrets that give agent pods their model keys', () => {
    const config = loadConfig(['--backend', 'k8s'], { FORGE_K8S_ENV_FROM_SECRETS: 'forge-agent-keys, other ' });
    expect(config.k8s.envFromSecrets).toEqual(['forge-agent-keys', 'other']);
    expect(loadConfig([], {}).k8s.envFromSecrets).toEqual([]);
  });
});
