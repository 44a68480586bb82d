import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localWorkspaceAttach } from '@forge/core';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { dialHome, type DialHome } from '@forge/dial-home';
import { testDatabases } from '@forge/store/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from '../test-support/api-harness.js';
import { startPlatformProcess, type PlatformProcess } from '../test-support/platform-process.js';
import { ChannelClient, attachUrl } from './test-support/attach-harness.js';

const KEY = 'alice-attach-replicas-key-0123456789';
const pg = await testDatabases();

async function until<T>(check: () => Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Two platform processes on one PostgreSQL and a remote agent dialled into A: its terminal opens through A, and
 * through B, which does not hold the agent's link and relays the upgrade to A (docs/architecture.md, "attach").
 * attach-relay.int.test.ts covers the relay in depth.
 */
describe.skipIf(!pg.url)(
  `attach into a remote agent with two replicas (${pg.url ? 'FORGE_TEST_DATABASE_URL' : `skipped: ${pg.reason}`})`,
  () => {
    afterAll(() => pg.dropAll());

    it('the replica holding the link attaches; the other relays to it', { timeout: 180_000 }, async () => {
      const data = await mkdtemp(join(tmpdir(), 'forge-attach-replicas-'));
      const env = {
        FORGE_API_KEYS: `alice:${KEY}`,
        FORGE_ADMIN_USERS: 'alice',
        FORGE_DATA_DIR: data,
        FORGE_PORT: '0',
        FORGE_HUB_PORT: '0',
        FORGE_HUB_SECRET: 'a-hub-secret-of-at-least-32-bytes-long!!',
        FORGE_DATABASE_URL: await pg.create(),
        FORGE_RATE_LIMIT: '1000000',
        FORGE_TEST_EXECUTIONS_LOG: join(data, 'executions.log'),
      };
      const processes: PlatformProcess[] = [];
      let dialer: DialHome | undefined;
      try {
        const a = await startPlatformProcess(env);
        processes.push(a);
        const b = await startPlatformProcess(env);
        processes.push(b);
        const onB = apiClient(b.url, KEY);
        const token = await onB('POST', '/api/v1/remote-agents/tokens', { body: { name: 'laptop-x' } });
        expect(token.status).toBe(201);
        const workspace = await mkdtemp(join(data, 'remote-'));
        dialer = dialHome({
          url: a.hub!,
          name: 'laptop-x',
          agent: scriptedAgent({ steps: sampleScript() }),
          credentialFile: join(data, 'laptop-x.json'),
          enrolmentToken: token.json.token as string,
          attach: localWorkspaceAttach({ workspace }),
        });
        await dialer.whenOnline();
        const agentId = await until(async () => {
          const res = await onB('POST', '/api/v1/agents', { body: { provider: 'laptop-x' } });
          return res.status === 201 && (res.json.agent_id as string);
        }, 'B to accept laptop-x as a provider');
        await until(async () => {
          const list = (await onB('GET', '/api/v1/remote-agents')).json.agents as Array<Record<string, unknown>>;
          return list.some((x) => x.name === 'laptop-x' && x.status === 'online');
        }, 'B to list laptop-x online');
        const headers = { authorization: `Bearer ${KEY}` };

        const viaB = await ChannelClient.open(attachUrl(b.url, agentId, { command: ['echo', 'via-B'] }), headers);
        await viaB.closed;
        expect(viaB.stdout).toBe('via-B\n');
        expect(viaB.status).toEqual({ metadata: {}, status: 'Success' });

        const c = await ChannelClient.open(attachUrl(a.url, agentId, { command: ['echo', 'via-A'] }), headers);
        await c.closed;
        expect(c.stdout).toBe('via-A\n');
        expect(c.status).toEqual({ metadata: {}, status: 'Success' });
      } finally {
        await dialer?.stop();
        for (const p of processes) await p.stop();
        await rm(data, { recursive: true, force: true });
      }
    });
  },
);
