import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { createAgentHub, dialHome, type AgentHub, type DialHome } from '@forge/dial-home';
import { sqlAgentPresence } from '@forge/store';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CodeAgent } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { startRemoteAgents } from './remote-agents.js';
import { isFinal, RunManager } from './run-manager.js';
import { testStore } from './test-support/api-harness.js';

const SECRET = 'store-test-secret-store-test-secret-0123456789';

/** Two platform replicas' hubs on one database: what one enrols, revokes or spends, the other knows. */
describe('dial-home on the store', () => {
  it('shares enrolled agents, single-use tokens and revocations between two hubs', async () => {
    const store = await testStore();
    const dir = await mkdtemp(join(tmpdir(), 'forge-hub-store-'));
    const hubs: AgentHub[] = [];
    const agents: DialHome[] = [];
    try {
      const hub = async () => {
        const h = createAgentHub({ secret: SECRET, credentialStore: store.credentials, heartbeatMs: 100 });
        hubs.push(h);
        return { hub: h, server: await h.listen({ port: 0 }) };
      };
      const a = await hub();
      const b = await hub();
      const token = a.hub.issueEnrolmentToken().token;
      const dial = (url: string, enrolmentToken?: string) => {
        const d = dialHome({
          url,
          name: 'shared',
          agent: scriptedAgent({ steps: sampleScript() }),
          credentialFile: join(dir, 'shared.json'),
          ...(enrolmentToken ? { enrolmentToken } : {}),
          backoff: { initialMs: 20, maxMs: 200 },
          connectTimeoutMs: 5_000,
        });
        agents.push(d);
        return d;
      };
      // Enrolled through A…
      const first = dial(a.server.url, token);
      await first.whenOnline();
      const agentId = first.agentId!;
      await first.stop();
      expect((await store.credentials.get(agentId))?.name).toBe('shared');
      // …its credential is accepted by B, and the token is spent for B too.
      const second = dial(b.server.url);
      await second.whenOnline();
      expect(second.agentId).toBe(agentId);
      const reuse = dialHome({
        url: b.server.url,
        name: 'other',
        agent: scriptedAgent({ steps: sampleScript() }),
        credentialFile: join(dir, 'other.json'),
        enrolmentToken: token,
        connectTimeoutMs: 5_000,
      });
      agents.push(reuse);
      await expect(reuse.whenOnline()).rejects.toMatchObject({ code: 'ENROLMENT_TOKEN_USED' });
      // Revoked by A: B refuses the agent at its next connection.
      expect(await a.hub.revoke(agentId)).toBe(true);
      const [row] = await store.sql.query('select status from forge_remote_agents where agent_id = $1', [agentId]);
      expect(row?.status).toBe('revoked');
      await second.stop();
      const third = dial(b.server.url);
      await expect(third.whenOnline()).rejects.toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
    } finally {
      await Promise.all(agents.map((d) => d.stop()));
      for (const h of hubs) await h.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shares presence between two hubs: online on both, revoked through B ends A’s session, offline once A stops heartbeating', async () => {
    const store = await testStore();
    const dir = await mkdtemp(join(tmpdir(), 'forge-hub-presence-'));
    const hubs: AgentHub[] = [];
    const agents: DialHome[] = [];
    let now = Date.now();
    try {
      const hub = async (instanceId: string) => {
        const h = createAgentHub({
          secret: SECRET,
          credentialStore: store.credentials,
          presence: sqlAgentPresence(store.sql, { instanceId, staleAfterMs: 60_000, now: () => now }),
          // Heartbeats far apart: no message of the agent's carries a revocation, only B's presence sync can.
          heartbeatMs: 30_000,
          presenceSyncMs: 20,
        });
        hubs.push(h);
        await store.runs.heartbeat(instanceId, now, now + 60_000);
        return { hub: h, server: await h.listen({ port: 0 }) };
      };
      const a = await hub('hub-a');
      const b = await hub('hub-b');
      const d = dialHome({
        url: a.server.url,
        name: 'present',
        agent: scriptedAgent({ steps: sampleScript() }),
        credentialFile: join(dir, 'present.json'),
        enrolmentToken: b.hub.issueEnrolmentToken().token,
        connectTimeoutMs: 5_000,
      });
      agents.push(d);
      await d.whenOnline();
      const [onA] = await a.hub.listAgents();
      const [onB] = await b.hub.listAgents();
      expect(onB).toMatchObject({ id: d.agentId, status: 'online', provider: 'scripted', lastSeen: onA?.lastSeen });

      // A stops heartbeating (as if killed): once its heartbeat is older than the lease, B lists the agent offline.
      now += 61_000;
      expect((await b.hub.listAgents())[0]?.status).toBe('offline');
      await store.runs.heartbeat('hub-a', now, now + 60_000);
      expect((await b.hub.listAgents())[0]?.status).toBe('online');

      expect(await b.hub.revoke(d.agentId!)).toBe(true);
      await d.done;
      expect(d.lastError).toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
      expect(await a.hub.listAgents()).toEqual([]);
    } finally {
      await Promise.all(agents.map((x) => x.stop()));
      for (const h of hubs) await h.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists a remote agent’s runs in flight from the store, so a replica that does not run them counts them too', async () => {
    const store = await testStore();
    const remoteId = `agt_busy_${Date.now()}`;
    await store.credentials.put({ agentId: remoteId, name: 'busy-elsewhere', credentialHash: 'h', enrolledAt: 1 });
    const queued = await store.runs.enqueue({
      requestId: `req_busy_${Date.now()}`,
      userId: 'u',
      agentId: 'agt_userbusy0001',
      request: { prompt: 'x' },
      remoteAgentId: remoteId,
      now: Date.now(),
      maxQueued: 10,
    });
    if ('full' in queued) throw new Error('full');
    let claimed = await store.runs.claimNext('rm-a', Date.now(), Date.now() + 60_000);
    while (claimed && claimed.requestId !== queued.run.requestId)
      claimed = await store.runs.claimNext('rm-a', Date.now(), Date.now() + 60_000);
    // This replica (rm-b) runs nothing; its hub has no session of the agent.
    const remote = await startRemoteAgents({
      port: 0,
      host: '127.0.0.1',
      secret: SECRET,
      credentialStore: store.credentials,
      presence: sqlAgentPresence(store.sql, { instanceId: 'rm-b', staleAfterMs: 60_000 }),
      runsInFlight: () => store.runs.runningByRemoteAgent(),
    });
    try {
      const listed = async () => (await remote.list()).find((a) => a.id === remoteId);
      expect(await listed()).toMatchObject({ name: 'busy-elsewhere', runs_in_flight: 1 });
      await store.runs.append(queued.run.requestId, 'rm-a', [], {
        status: 'completed',
        result: { status: 'completed' },
        finishedAt: Date.now(),
        release: true,
      });
      expect(await listed()).toMatchObject({ runs_in_flight: 0 });
    } finally {
      await remote.close();
    }
  });

  it('a run for a remote agent another live instance holds is not claimed here: it waits, and runs there', async () => {
    const store = await testStore();
    const remoteId = `agt_held_${Date.now()}`;
    const now = Date.now();
    await store.credentials.put({ agentId: remoteId, name: 'held-elsewhere', credentialHash: 'h', enrolledAt: 1 });
    // Instance rm-a is alive and holds the agent's session.
    await store.runs.heartbeat('rm-a', now, now + 15_000);
    await sqlAgentPresence(store.sql, { instanceId: 'rm-a', staleAfterMs: 15_000 }).open({
      agentId: remoteId,
      sessionId: 's1',
      since: now,
      lastSeen: now,
    });
    const executedOn: string[] = [];
    const agentOn = (where: string) => async (): Promise<CodeAgent> => {
      const inner = scriptedAgent({ steps: sampleScript(`ran on ${where}`) });
      return {
        provider: inner.provider,
        capabilities: () => inner.capabilities(),
        cancel: (id) => inner.cancel(id),
        execute(request, options) {
          executedOn.push(where);
          return inner.execute(request, options);
        },
      };
    };
    const managers: RunManager[] = [];
    try {
      const b = await RunManager.create({
        store,
        instanceId: 'rm-b',
        agents: agentOn('b'),
        placement: async () => remoteId,
        pollMs: 20,
      });
      managers.push(b);
      const sent = await b.submit({ userId: 'u-held', agentId: 'agt_userheld0001', request: { prompt: 'hi' } });
      expect(sent.status).toBe('queued');
      // Many of B's polls later, still queued: B never claims it.
      await sleep(300);
      expect((await b.get('u-held', sent.run.requestId))?.status).toBe('queued');
      expect(executedOn).toEqual([]);

      const a = await RunManager.create({ store, instanceId: 'rm-a', agents: agentOn('a'), pollMs: 20 });
      managers.push(a);
      let run = await b.get('u-held', sent.run.requestId);
      for (let i = 0; i < 500 && run && !isFinal(run.status); i++) {
        await sleep(10);
        run = await b.get('u-held', sent.run.requestId);
      }
      expect(run).toMatchObject({ status: 'completed', result: { text: 'ran on a' } });
      expect(executedOn).toEqual(['a']);
    } finally {
      for (const m of managers) await m.close(0);
    }
  });

  it('an agent dialling in wakes the queue of the instance it dialled: its waiting run starts there without a poll', async () => {
    const store = await testStore();
    const remoteId = `agt_moved_${Date.now()}`;
    const now = Date.now();
    await store.credentials.put({ agentId: remoteId, name: 'moved', credentialHash: 'h', enrolledAt: 1 });
    // Held by rm-c (alive), so rm-a may not claim its run yet.
    await store.runs.heartbeat('rm-c', now, now + 60_000);
    const presence = (instanceId: string) => sqlAgentPresence(store.sql, { instanceId, staleAfterMs: 60_000 });
    await presence('rm-c').open({ agentId: remoteId, sessionId: 's1', since: now, lastSeen: now });
    const a = await RunManager.create({
      store,
      instanceId: 'rm-a',
      agents: async () => scriptedAgent({ steps: sampleScript('ran on a') }),
      placement: async () => remoteId,
      pollMs: 3_600_000,
    });
    try {
      const sent = await a.submit({ userId: 'u-moved', agentId: 'agt_usermoved001', request: { prompt: 'hi' } });
      expect(sent.status).toBe('queued');
      // The agent leaves rm-c and dials rm-a: only the notification can tell rm-a's queue (its poll is an hour).
      await presence('rm-a').open({ agentId: remoteId, sessionId: 's2', since: Date.now(), lastSeen: Date.now() });
      let run = await a.get('u-moved', sent.run.requestId);
      for (let i = 0; i < 500 && run && !isFinal(run.status); i++) {
        await sleep(10);
        run = await a.get('u-moved', sent.run.requestId);
      }
      expect(run).toMatchObject({ status: 'completed', result: { text: 'ran on a' } });
    } finally {
      await a.close(0);
    }
  });
});
