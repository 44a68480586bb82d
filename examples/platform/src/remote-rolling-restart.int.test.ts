import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import type { AgentEvent } from '@forge/core';
import { openStore, type ForgeStore } from '@forge/store';
import { testDatabases } from '@forge/store/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { programArgs } from '../../../scripts/test-support/program-bundle.js';
import { apiClient } from './test-support/api-harness.js';
import { startPlatformProcess, type PlatformProcess } from './test-support/platform-process.js';
import { startWebhookReceiver } from './webhook-receiver.js';

/**
 * Rolling restarts lose no remote run (issue 29 item 8). Two platform processes on one PostgreSQL, each with
 * its hub, behind one TCP "Service" (new connections go to the first replica that accepts); the real
 * remote-agent program (examples/remote-agent) serving the real Claude Code CLI against a fake Anthropic API
 * whose model turn waits for the test. The replica holding the agent's link gets SIGTERM mid-turn: it detaches
 * the run at the agent and exits; the agent dials the other through the Service, which adopts the run from
 * its last journaled seq. The agent process and its CLI run on, never restarted.
 */
const KEY = 'alice-remote-rolling-key-0123456789';
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const remoteAgentDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'remote-agent');
const pg = await testDatabases();

async function until<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  ms = 60_000,
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

/** A Service in front of the hubs: each new connection goes to the first of `ports()` that accepts it. */
async function service(ports: () => number[]) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    down.pause();
    sockets.add(down);
    down.on('close', () => sockets.delete(down));
    down.on('error', () => down.destroy());
    const tryNext = (rest: number[]) => {
      const port = rest[0];
      if (port === undefined) return void down.destroy();
      const up = net.connect(port, '127.0.0.1');
      up.once('error', () => tryNext(rest.slice(1)));
      up.once('connect', () => {
        up.removeAllListeners('error');
        sockets.add(up);
        up.on('close', () => sockets.delete(up));
        up.on('error', () => down.destroy());
        down.on('close', () => up.destroy());
        up.on('close', () => down.destroy());
        down.pipe(up).pipe(down);
        down.resume();
      });
    };
    tryNext(ports());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe.skipIf(!pg.url)(`rolling restart with a remote agent${pg.url ? '' : ` (skipped: ${pg.reason})`}`, () => {
  afterAll(() => pg.dropAll());

  it('a SIGTERM’d replica holding the agent’s link hands its run over: the other adopts it, no gap in seq, one final webhook, the agent never restarted', async () => {
    const data = await mkdtemp(join(tmpdir(), 'forge-remote-rolling-'));
    const databaseUrl = await pg.create();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let turns = 0;
    let api: FakeAnthropicApi | undefined;
    let store: ForgeStore | undefined;
    let agent: ChildProcess | undefined;
    let front: Awaited<ReturnType<typeof service>> | undefined;
    let agentOutput = '';
    const receiver = await startWebhookReceiver({ secret: SECRET });
    const procs: PlatformProcess[] = [];
    try {
      api = await startFakeAnthropicApi({
        respond: async () => {
          turns++;
          await gate;
          return { text: 'the long turn is done' };
        },
      });
      const env = {
        FORGE_API_KEYS: `alice:${KEY}`,
        FORGE_ADMIN_USERS: 'alice',
        FORGE_DATA_DIR: data,
        FORGE_PORT: '0',
        FORGE_HUB_PORT: '0',
        FORGE_HUB_SECRET: 'a-hub-secret-of-at-least-32-bytes-long!!',
        FORGE_RATE_LIMIT: '1000000',
        FORGE_DATABASE_URL: databaseUrl,
        FORGE_WEBHOOK_ALLOW_PRIVATE: '127.0.0.1',
        FORGE_TEST_EXECUTIONS_LOG: join(data, 'executions.log'),
        FORGE_DRAIN_MS: '20000',
        FORGE_TEST_LOG_LEVEL: 'info',
      };
      procs.push(...(await Promise.all([startPlatformProcess(env), startPlatformProcess(env)])));
      const hubPort = (p: PlatformProcess) => Number(new URL(p.hub!).port);
      const alive = () => procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
      front = await service(() => alive().map(hubPort));
      store = await openStore({ databaseUrl });
      const db = store;
      const call = apiClient(procs[0]!.url, KEY);
      const token = await call('POST', '/api/v1/remote-agents/tokens', { body: { name: 'laptop-roll' } });
      expect(token.status, token.text).toBe(201);

      await mkdir(join(data, 'home'), { recursive: true });
      await mkdir(join(data, 'project'), { recursive: true });
      agent = spawn(process.execPath, await programArgs(join(remoteAgentDir, 'src/main.ts')), {
        cwd: remoteAgentDir,
        env: {
          ...process.env,
          ...fakeAnthropicEnv(api.url),
          HOME: join(data, 'home'),
          FORGE_HUB_URL: front.url,
          FORGE_ENROLMENT_TOKEN: token.json.token as string,
          FORGE_CREDENTIAL_FILE: join(data, 'agent.json'),
          FORGE_PROVIDER: 'claude-code',
          FORGE_BIN: claudeBinPath(),
          FORGE_CWD: join(data, 'project'),
          FORGE_AGENT_NAME: 'laptop-roll',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      agent.stdout!.on('data', (d: Buffer) => (agentOutput += d.toString()));
      agent.stderr!.on('data', (d: Buffer) => (agentOutput += d.toString()));
      const agentPid = agent.pid;

      const agentId = await until(async () => {
        const res = await call('POST', '/api/v1/agents', { body: { provider: 'laptop-roll' } });
        return res.status === 201 && (res.json.agent_id as string);
      }, `the platform to accept laptop-roll as a provider\n${agentOutput}`);
      await until(async () => {
        const list = (await call('GET', '/api/v1/remote-agents')).json.agents as Array<Record<string, unknown>>;
        return list.some((x) => x.name === 'laptop-roll' && x.status === 'online');
      }, `laptop-roll online\n${agentOutput}`);
      const sent = await until(async () => {
        const res = await call('POST', `/api/v1/agents/${agentId}/messages`, {
          body: { content: 'a long turn', webhook_url: receiver.url, webhook_secret: SECRET },
        });
        return res.status === 202 && res;
      }, 'the message to be taken');
      const rid = sent.json.request_id as string;
      // The CLI is in its model turn (waiting for the gate); what it said so far is journaled.
      let seen = 0;
      await until(
        async () => turns > 0 && (seen = (await db.runs.events(rid, 0)).length) >= 1,
        'the turn under way',
        60_000,
        () =>
          `turns ${turns}, events ${seen}, requests ${api!.requests.length}\n${procs.map((p) => p.log()).join('\n---\n')}\n${agentOutput}`,
      );
      const [row] = await db.sql.query<{ owner: string; status: string }>(
        'select owner, status from forge_runs where request_id = $1',
        [rid],
      );
      expect(row!.status).toBe('running');
      const holder = procs.find((p) => p.instance === row!.owner)!;
      const other = procs.find((p) => p !== holder)!;

      await holder.stop();
      const stoppedAt = Date.now();
      expect(holder.child.exitCode, holder.log()).toBe(0);
      expect(holder.log()).toContain('run handed over to another instance');
      release();

      const final = await until(async () => {
        const run = (await apiClient(other.url, KEY)('GET', `/api/v1/agents/${agentId}/runs/${rid}`)).json;
        return run.status !== 'running' && run.status !== 'queued' && run;
      }, `the run ending through the other replica\n${other.log()}\n${agentOutput}`);
      expect(final.result, JSON.stringify(final)).toMatchObject({ status: 'completed' });
      expect(final.result.text).toContain('the long turn is done');
      const events = (await db.runs.events(rid, 0)).map((e) => JSON.parse(e.body) as AgentEvent);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
      // The turn's session was saved into the platform's store over the new link (session calls follow the run).
      const started = events.find((e) => e.type === 'session.started') as { sessionId: string } | undefined;
      const [saved] = await db.sql.query<{ size: string | number; updated_at: number }>(
        'select size, updated_at from forge_sessions where session_id = $1',
        [started?.sessionId],
      );
      expect(Number(saved?.size)).toBeGreaterThan(0);
      expect(Number(saved?.updated_at)).toBeGreaterThan(stoppedAt);
      // One model turn, one agent process: nothing was cancelled, restarted or resumed.
      expect(turns).toBe(1);
      expect(agent.exitCode).toBeNull();
      expect(agent.pid).toBe(agentPid);

      const hooks = await receiver.final(rid);
      const bySeq = new Map<number, Set<string>>();
      for (const h of hooks) bySeq.set(h.payload.seq, (bySeq.get(h.payload.seq) ?? new Set()).add(h.id));
      expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual(events.map((e) => e.seq));
      for (const ids of bySeq.values()) expect(ids.size).toBe(1);
      expect(hooks.filter((h) => h.payload.is_final)).toHaveLength(1);
    } finally {
      release();
      if (agent && agent.exitCode === null) {
        const exited = new Promise((r) => agent!.once('exit', r));
        agent.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (agent.exitCode === null) agent.kill('SIGKILL');
      }
      for (const p of procs) await p.kill9();
      await front?.close();
      await store?.close();
      await api?.close();
      await receiver.close();
      await rm(data, { recursive: true, force: true });
    }
  }, 240_000);
});
