import { join } from 'node:path';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryAgentPresence, type AgentPresence, type HeldSession } from './agent-presence.js';
import { memoryCredentialStore } from './credential-store.js';
import { dialHome, type DialHome } from './dial-home.js';
import { Rig } from './test-support/rig.js';
import { waitUntil } from './test-support/wait-until.js';

const agent = () => scriptedAgent({ steps: sampleScript() });

/** Two hubs (as two platform replicas) sharing one credential store and one presence store. */
describe('presence shared by hubs', () => {
  const rigs: Rig[] = [];
  const extra: DialHome[] = [];
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((d) => d.stop()));
    for (const r of rigs.splice(0)) await r.close();
  });

  const pair = async (presence: AgentPresence) => {
    const credentialStore = memoryCredentialStore();
    const a = await new Rig({ credentialStore, presence, presenceSyncMs: 20 }).start();
    const b = await new Rig({ credentialStore, presence, presenceSyncMs: 20 }).start();
    rigs.push(a, b);
    return { a, b };
  };

  it('lists an agent held by the other hub online, and a newer session on another hub replaces the old one', async () => {
    const { a, b } = await pair(memoryAgentPresence());
    const first = a.dial('pia', agent());
    await first.whenOnline();
    const onB = await b.waitFor((l) => l[0]?.status === 'online', 'B to list pia online');
    expect(onB).toMatchObject([{ id: first.agentId, name: 'pia', status: 'online', registered: false }]);
    expect(onB[0]!.lastSeen).toBeGreaterThan(0);

    // The same credential dials B: B holds it now, A ends its own session at its next sync.
    const second = dialHome({
      url: b.server.url,
      name: 'pia',
      agent: agent(),
      credentialFile: join(a.dir, 'pia.json'),
      backoff: { initialMs: 20, maxMs: 200 },
      connectTimeoutMs: 5_000,
    });
    extra.push(second);
    await second.whenOnline();
    await first.done;
    expect(first.lastError).toMatchObject({ code: 'AGENT_SESSION_REPLACED' });
    expect(second.status).toBe('online');
    for (const rig of [a, b]) expect((await rig.hub.listAgents())[0]?.status).toBe('online');
    expect((await b.hub.listAgents())[0]?.registered).toBe(true);

    await second.stop();
    await a.waitFor((l) => l[0]?.status === 'offline', 'A to list pia offline');
    await b.waitFor((l) => l[0]?.status === 'offline', 'B to list pia offline');
  });

  it('ends a session held here when the presence store says its credential was revoked', async () => {
    const inner = memoryAgentPresence();
    const revoked = new Set<string>();
    // A store that knows of revocations (as the database-backed one does from the same row).
    const presence: AgentPresence = {
      ...inner,
      async sync(held: readonly HeldSession[]) {
        const verdicts = await inner.sync(held.filter((s) => !revoked.has(s.agentId)));
        return [
          ...verdicts,
          ...held
            .filter((s) => revoked.has(s.agentId))
            .map((s) => ({ agentId: s.agentId, sessionId: s.sessionId, reason: 'revoked' as const })),
        ];
      },
    };
    const { a, b } = await pair(presence);
    const d = a.dial('rue', agent());
    await d.whenOnline();
    revoked.add(d.agentId!);
    await d.done;
    expect(d.lastError).toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
    await waitUntil(async () => (await inner.list()).size === 0, 'the session end to be recorded');
    expect((await b.hub.listAgents())[0]?.status).toBe('offline');
  });

  it('records a session end that failed to be written at its next sync, so the agent does not stay online', async () => {
    let failures = 1;
    const inner = memoryAgentPresence();
    const presence: AgentPresence = {
      ...inner,
      async close(session) {
        if (failures-- > 0) throw new Error('database unavailable');
        return inner.close(session);
      },
    };
    const { a, b } = await pair(presence);
    const d = a.dial('kai', agent());
    await d.whenOnline();
    await d.stop();
    await b.waitFor((l) => l[0]?.status === 'offline', 'B to list kai offline');
    expect(failures).toBe(-1);
    expect((await inner.list()).size).toBe(0);
  });

  it('refuses a session it cannot record (the agent dials again), rather than hold it unseen by the others', async () => {
    let failures = 1;
    const inner = memoryAgentPresence();
    const presence: AgentPresence = {
      ...inner,
      async open(session) {
        if (failures-- > 0) throw new Error('database unavailable');
        return inner.open(session);
      },
    };
    const rig = await new Rig({ presence, presenceSyncMs: 20 }).start();
    rigs.push(rig);
    const d = rig.dial('sol', agent());
    await d.whenOnline();
    expect(failures).toBeLessThan(0);
    expect([...(await inner.list()).keys()]).toEqual([d.agentId]);
  });
});
