import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEvent } from '@forge/core';
import {
  createAgentHub,
  dialHome,
  memoryCredentialStore,
  type AgentHub,
  type DialHome,
  type HubServer,
} from '@forge/dial-home';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../logger.js';
import { remoteProvider } from '../remote-agents-providers.js';
import { RunManager } from '../run-manager.js';
import { testStore } from '../test-support/api-harness.js';
import { gatedAgent } from '../test-support/gated-agent.js';

const SECRET = 'remote-handover-secret-0123456789-abcdef';

/** The Service in front of the replicas' hubs: new connections go to `target`. */
async function service(target: number) {
  const sockets = new Set<net.Socket>();
  const proxy = { target };
  const server = net.createServer((down) => {
    const up = net.connect(proxy.target, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => {
        down.destroy();
        up.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    proxy,
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('handing a remote agent’s run over between two run managers (two hubs) on one store', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  async function setup() {
    const dir = await mkdtemp(join(tmpdir(), 'forge-remote-handover-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // First: opening the store (PGlite's WASM) can stall the event loop for seconds on a loaded machine.
    const store = await testStore();
    const credentialStore = memoryCredentialStore();
    const hubLog = memoryLogger();
    const hubs: Array<{ hub: AgentHub; server: HubServer }> = [];
    for (let i = 0; i < 2; i++) {
      const hub = createAgentHub({
        secret: SECRET,
        credentialStore,
        heartbeatMs: 500,
        missedHeartbeats: 10,
        logger: hubLog,
      });
      const server = await hub.listen({ port: 0 });
      cleanups.push(() => hub.close());
      hubs.push({ hub, server });
    }
    const front = await service(hubs[0]!.server.port);
    cleanups.push(() => front.close());
    const remote = gatedAgent('ses_remote_handover');
    const dialler: DialHome = dialHome({
      url: front.url,
      name: 'laptop',
      agent: remote.agent,
      credentialFile: join(dir, 'laptop.json'),
      enrolmentToken: hubs[0]!.hub.issueEnrolmentToken().token,
      backoff: { initialMs: 20, maxMs: 100 },
      connectTimeoutMs: 5_000,
      logger: hubLog,
    });
    cleanups.push(() => dialler.stop());
    await dialler.whenOnline();
    const agentId = dialler.agentId!;
    const logs = [memoryLogger(), memoryLogger()];
    const manager = (i: number, extra: { handoverWaitMs?: number } = {}) =>
      RunManager.create({
        store,
        agents: async () => remoteProvider(hubs[i]!.hub, agentId, 'laptop'),
        logger: logs[i]!,
        pollMs: 50,
        ...extra,
      });
    return { hubs, front, remote, dialler, manager };
  }

  it('the draining one detaches the run at the agent, which dials the other; that one adopts it from the last journaled seq', async () => {
    const { hubs, front, remote, manager } = await setup();
    const first = await manager(0);
    cleanups.push(() => first.close());
    const { run } = await first.submit({ userId: 'u', agentId: 'agt_remote', request: { prompt: 'go' } });
    await remote.reached;
    const second = await manager(1);
    cleanups.push(() => second.close());

    const report = await first.drain(5_000);
    expect(report).toEqual({ handedOver: 1, finished: 0, left: 0 });
    // The replica stops: its hub closes, the Service sends the agent's next dial to the other.
    front.proxy.target = hubs[1]!.server.port;
    await first.close();
    await hubs[0]!.hub.close();
    remote.release();

    const events: AgentEvent[] = [];
    for await (const e of second.follow(run.requestId, 0, AbortSignal.timeout(20_000)))
      events.push(JSON.parse(e.body) as AgentEvent);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'text.delta').map((e) => (e as { text: string }).text)).toEqual([
      'a ',
      'b ',
      'c ',
    ]);
    expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed', text: 'a b c' } });
    // The agent ran it once, to its own end: nothing was cancelled.
    expect(remote.results.map((r) => r.status)).toEqual(['completed']);
    expect((await second.get('u', run.requestId))?.handedOverAt).toBeUndefined();
  }, 120_000);

  it('a run whose agent never dials back is ended by the other once the wait is over, with one run.completed', async () => {
    const { dialler, remote, manager } = await setup();
    const first = await manager(0);
    cleanups.push(() => first.close());
    const { run } = await first.submit({ userId: 'u', agentId: 'agt_remote', request: { prompt: 'go' } });
    await remote.reached;
    const second = await manager(1, { handoverWaitMs: 300 });
    cleanups.push(() => second.close());
    expect(await first.drain(5_000)).toMatchObject({ handedOver: 1 });
    // The agent's machine goes away (its detached run is cancelled there).
    await dialler.stop();
    await first.close();

    const events: AgentEvent[] = [];
    for await (const e of second.follow(run.requestId, 0, AbortSignal.timeout(20_000)))
      events.push(JSON.parse(e.body) as AgentEvent);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      type: 'run.completed',
      result: { status: 'failed', error: { code: 'AGENT_NOT_BACK', retryable: true } },
    });
  }, 120_000);
});
