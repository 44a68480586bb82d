import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeAgent } from '@forge/core';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { dialHome, type DialHome } from '@forge/dial-home';
import { testDatabases } from '@forge/store/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from './test-support/api-harness.js';
import { startPlatformProcess, type PlatformProcess } from './test-support/platform-process.js';

/**
 * Two platform replicas (child processes, test-support/durable-platform.ts) on one PostgreSQL,
 * and a remote agent dialling one of them over real loopback HTTP/2: the other replica lists it
 * with the same status, sends it messages (they execute on the replica holding its session),
 * revokes it (the session held by the other replica ends), and sees it offline once the holding
 * replica is killed and its instance heartbeat goes stale.
 */
const KEY = 'alice-replicas-key-0123456789';
const pg = await testDatabases();
type Call = ReturnType<typeof apiClient>;

async function until<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  ms = 20_000,
  log = () => '',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const remoteAgent = async (call: Call, name: string): Promise<Record<string, unknown> | undefined> =>
  ((await call('GET', '/api/v1/remote-agents')).json.agents as Array<Record<string, unknown>>).find(
    (a) => a.name === name,
  );

/** A remote agent that counts what it executes. */
function countingAgent(text: string): { agent: CodeAgent; executed: () => number } {
  const inner = scriptedAgent({ steps: sampleScript(text) });
  let n = 0;
  return {
    agent: {
      provider: inner.provider,
      capabilities: () => inner.capabilities(),
      execute(input, options) {
        n++;
        return inner.execute(input, options);
      },
      cancel: (id) => inner.cancel(id),
    },
    executed: () => n,
  };
}

describe.skipIf(!pg.url)(
  `remote agents on two replicas (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`,
  () => {
    afterAll(() => pg.dropAll());

    it('lists, runs, revokes and loses a remote agent connected to the other replica', {
      timeout: 120_000,
    }, async () => {
      const data = await mkdtemp(join(tmpdir(), 'forge-remote-replicas-'));
      const env = {
        FORGE_API_KEYS: `alice:${KEY}`,
        FORGE_ADMIN_USERS: 'alice',
        // One data dir: the local backend's agents are directories, which both replicas must see.
        FORGE_DATA_DIR: data,
        FORGE_PORT: '0',
        FORGE_HUB_PORT: '0',
        FORGE_HUB_SECRET: 'a-hub-secret-of-at-least-32-bytes-long!!',
        FORGE_DATABASE_URL: await pg.create(),
        // A replica that stops heartbeating is dead after 1.5 s (its agents offline, its runs taken over).
        FORGE_LEASE_MS: '1500',
        FORGE_RATE_LIMIT: '1000000',
        FORGE_TEST_EXECUTIONS_LOG: join(data, 'executions.log'),
      };
      const processes: PlatformProcess[] = [];
      const dialers: DialHome[] = [];
      const dial = (hub: string, name: string, agent: CodeAgent, enrolmentToken?: string) => {
        const d = dialHome({
          url: hub,
          name,
          agent,
          credentialFile: join(data, `${name}.credential.json`),
          ...(enrolmentToken ? { enrolmentToken } : {}),
          backoff: { initialMs: 50, maxMs: 200 },
          connectTimeoutMs: 5_000,
        });
        dialers.push(d);
        return d;
      };
      try {
        const a = await startPlatformProcess(env);
        processes.push(a);
        const b = await startPlatformProcess(env);
        processes.push(b);
        const logs = () => `A:\n${a.log()}\nB:\n${b.log()}`;
        const onA = apiClient(a.url, KEY);
        const onB = apiClient(b.url, KEY);
        const token = async (name: string) => {
          const res = await onB('POST', '/api/v1/remote-agents/tokens', { body: { name } });
          expect(res.status).toBe(201);
          return res.json.token as string;
        };
        const userAgentFor = (provider: string) =>
          until(async () => {
            const res = await onB('POST', '/api/v1/agents', { body: { provider } });
            return res.status === 201 && (res.json.agent_id as string);
          }, `B to accept ${provider} as a provider`);
        const finalRun = (agentId: string, requestId: string) =>
          until(
            async () => {
              const run = (await onB('GET', `/api/v1/agents/${agentId}/runs/${requestId}`)).json;
              return !['queued', 'running'].includes(run.status) && run;
            },
            `run ${requestId} to end`,
            20_000,
            logs,
          );

        // Enrolled through B, connected to A.
        const first = countingAgent('from afar');
        const laptop = dial(a.hub!, 'laptop-r', first.agent, await token('laptop-r'));
        await laptop.whenOnline();

        // B lists it online, with A's status and last-seen time.
        const seenByB = await until(async () => {
          const agent = await remoteAgent(onB, 'laptop-r');
          return agent?.status === 'online' && agent;
        }, 'B to list laptop-r online');
        const seenByA = await remoteAgent(onA, 'laptop-r');
        expect(seenByB).toMatchObject({ id: laptop.agentId, status: 'online', provider: 'scripted' });
        expect(seenByA).toMatchObject({ id: laptop.agentId, status: 'online' });
        expect(seenByB.last_seen).toBe(seenByA?.last_seen);

        // A message POSTed to B executes on A (only A holds the session) and completes, read from B.
        const agentId = await userAgentFor('laptop-r');
        const sent = await onB('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'hello' } });
        expect(sent.status).toBe(202);
        expect(await finalRun(agentId, sent.json.request_id)).toMatchObject({
          status: 'completed',
          result: { text: 'from afar' },
        });
        expect(first.executed()).toBe(1);

        // Revoked through B: A ends the session it holds (at its next presence sync).
        const revoked = await onB('DELETE', '/api/v1/remote-agents/laptop-r');
        expect(revoked.status).toBe(200);
        await until(async () => laptop.status === 'stopped', 'A to end the revoked session', 20_000, logs);
        expect(laptop.lastError).toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
        expect(await remoteAgent(onA, 'laptop-r')).toBeUndefined();

        // A second agent on A; A is killed: B lists it offline once A's heartbeat is stale.
        const second = countingAgent('still here');
        const desk = dial(a.hub!, 'desk-s', second.agent, await token('desk-s'));
        await desk.whenOnline();
        await until(async () => (await remoteAgent(onB, 'desk-s'))?.status === 'online', 'B to list desk-s online');
        const deskAgent = await userAgentFor('desk-s');
        await a.kill9();
        await until(
          async () => (await remoteAgent(onB, 'desk-s'))?.status === 'offline',
          'B to list desk-s offline after A died',
          20_000,
          logs,
        );
        // Offline everywhere: a message fails at once, retryable, as on one instance.
        const away = await onB('POST', `/api/v1/agents/${deskAgent}/messages`, { body: { content: 'anyone?' } });
        expect(await finalRun(deskAgent, away.json.request_id)).toMatchObject({
          status: 'failed',
          error: { code: 'AGENT_OFFLINE', retryable: true },
        });

        // It connects to B instead: its messages execute there.
        await desk.stop();
        const again = dial(b.hub!, 'desk-s', second.agent);
        await again.whenOnline();
        const back = await onB('POST', `/api/v1/agents/${deskAgent}/messages`, { body: { content: 'back?' } });
        expect(await finalRun(deskAgent, back.json.request_id)).toMatchObject({
          status: 'completed',
          result: { text: 'still here' },
        });
        expect(second.executed()).toBe(1);
      } finally {
        await Promise.all(dialers.map((d) => d.stop()));
        for (const p of processes) await p.stop();
        await rm(data, { recursive: true, force: true });
      }
    });
  },
);
