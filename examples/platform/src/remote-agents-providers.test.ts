import { createProviderRegistry, silentLogger, type AgentRequestInput, type CodeAgent } from '@forge/core';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { memoryCredentialStore, type AgentHub, type AgentInfo } from '@forge/dial-home';
import { afterEach, describe, expect, it } from 'vitest';
import { remoteAgentProviders, type RemoteAgentProviders } from './remote-agents-providers.js';

/** A hub stand-in: which agents are connected here, and what it lists. */
function fakeHub(connected: Map<string, CodeAgent>, listed: AgentInfo[] = []): AgentHub {
  return { agent: (id: string) => connected.get(id), listAgents: async () => listed } as unknown as AgentHub;
}

const record = (agentId: string, name: string, revokedAt?: number) => ({
  agentId,
  name,
  credentialHash: 'h',
  enrolledAt: 1,
  ...(revokedAt !== undefined ? { revokedAt } : {}),
});

describe('remote agents as providers', () => {
  let providers: RemoteAgentProviders | undefined;
  afterEach(() => providers?.close());

  it('registers every enrolled agent under its name, leaves a local provider of the same name alone, drops revoked ones', async () => {
    const registry = createProviderRegistry();
    const local = scriptedAgent({ steps: sampleScript() });
    registry.register('scripted', local);
    const credentials = memoryCredentialStore();
    await credentials.put(record('agt_a', 'laptop'));
    await credentials.put(record('agt_b', 'scripted'));
    await credentials.put(record('agt_c', 'gone', 5));
    providers = remoteAgentProviders({ hub: fakeHub(new Map()), registry, credentials, logger: silentLogger });
    await providers.refresh();
    expect(registry.list().sort()).toEqual(['laptop', 'scripted']);
    expect(await registry.get('scripted')).toBe(local);
    expect(providers.agentIdOf('laptop')).toBe('agt_a');
    expect(providers.agentIdOf('scripted')).toBeUndefined();

    await credentials.update?.('agt_a', (r) => ({ ...r, revokedAt: 9 }));
    await providers.refresh();
    expect(registry.has('laptop')).toBe(false);
    expect(providers.agentIdOf('laptop')).toBeUndefined();
  });

  it('runs on the agent connected here, without this machine’s cwd; not connected here, AGENT_OFFLINE', async () => {
    const registry = createProviderRegistry();
    const credentials = memoryCredentialStore();
    await credentials.put(record('agt_a', 'laptop'));
    await credentials.put(record('agt_b', 'desk'));
    const seen: AgentRequestInput[] = [];
    const inner = scriptedAgent({ steps: sampleScript('remote') });
    const connected = new Map<string, CodeAgent>([
      [
        'agt_a',
        {
          ...inner,
          provider: inner.provider,
          capabilities: () => inner.capabilities(),
          cancel: (id) => inner.cancel(id),
          execute(request, options) {
            seen.push(request);
            return inner.execute(request, options);
          },
        },
      ],
    ]);
    providers = remoteAgentProviders({ hub: fakeHub(connected), registry, credentials, logger: silentLogger });
    await providers.refresh();
    const run = (await registry.get('laptop')).execute({ prompt: 'hi', cwd: '/srv/forge/alice/agt_x/workspace' });
    expect((await run.result).text).toBe('remote');
    expect(seen[0]).toEqual({ prompt: 'hi' });
    const desk = await registry.get('desk');
    expect(() => desk.execute({ prompt: 'hi' })).toThrow(expect.objectContaining({ code: 'AGENT_OFFLINE' }));
    expect(await desk.capabilities()).toMatchObject({ available: false });
  });
});
