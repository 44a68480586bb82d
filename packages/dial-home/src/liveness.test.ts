import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { collectRun, sampleScript, scriptedAgent } from '@forge/core/testing';
import type { HubMessage } from './subscriptions.js';
import { CuttableProxy } from './test-support/cuttable-proxy.js';
import { Rig } from './test-support/rig.js';
import { waitUntil } from './test-support/wait-until.js';

const agent = () => scriptedAgent({ steps: sampleScript() });

describe('liveness over loopback', () => {
  let rig: Rig;
  let proxy: CuttableProxy | undefined;
  afterEach(async () => {
    await rig?.close();
    await proxy?.close();
    proxy = undefined;
  });

  it('heartbeat loss → offline with last-seen, unregistered; the agent is back online by itself once the route heals', async () => {
    rig = await new Rig().start();
    proxy = await new CuttableProxy(rig.server.port).start();
    const statuses: string[] = [];
    const d = rig.dial('hb', agent(), { url: proxy.url, connectTimeoutMs: 500, onStatus: (s) => statuses.push(s) });
    await d.whenOnline();
    const onlineAt = Date.now();
    expect(rig.registry.has('hb')).toBe(true);
    const offline: HubMessage[] = [];
    rig.hub.subscribe('agent.*.offline', (m) => offline.push(m));

    // The agent freezes (or its route black-holes): nothing is closed, messages just stop.
    proxy.blackhole();
    await waitUntil(() => offline.length > 0, 'the offline message');
    const [info] = await rig.hub.listAgents();
    expect(info).toMatchObject({ name: 'hb', status: 'offline', registered: false, runsInFlight: 0 });
    expect(info!.lastSeen).toBeGreaterThanOrEqual(onlineAt - 1_000);
    expect(info!.lastSeen).toBeLessThanOrEqual(offline[0]!.time);
    expect(offline[0]).toMatchObject({
      type: 'offline',
      agentId: d.agentId,
      reason: expect.stringContaining('heartbeats'),
    });
    expect(rig.registry.has('hb')).toBe(false);
    // The platform-side agent answers at once while the agent is away.
    const away = await collectRun(rig.hub.agent('hb')!.execute({ prompt: 'anyone there?' }));
    expect(away.result).toMatchObject({ status: 'failed', error: { code: 'AGENT_OFFLINE' } });

    // The agent noticed too (no heartbeat acks) and keeps dialling; the route comes back.
    await waitUntil(() => d.status === 'reconnecting', 'the agent to notice');
    proxy.heal();
    await d.whenOnline();
    await rig.waitFor((a) => a[0]?.status === 'online', 'hb online again');
    expect(rig.registry.has('hb')).toBe(true);
    const { result } = await collectRun((await rig.registry.get('hb')).execute({ prompt: 'again' }));
    expect(result.status).toBe('completed');
    expect(statuses).toEqual(expect.arrayContaining(['online', 'reconnecting']));
  });

  it('three agents, one stopped → two online, one offline with its last-seen', async () => {
    rig = await new Rig().start();
    const [a, b, c] = ['ant', 'bee', 'cat'].map((n) => rig.dial(n, agent()));
    await Promise.all([a!.whenOnline(), b!.whenOnline(), c!.whenOnline()]);
    expect((await rig.hub.listAgents()).map((x) => [x.name, x.status])).toEqual([
      ['ant', 'online'],
      ['bee', 'online'],
      ['cat', 'online'],
    ]);
    await b!.stop();
    const agents = await rig.waitFor((l) => l.find((x) => x.name === 'bee')?.status === 'offline', 'bee offline');
    expect(agents.map((x) => [x.name, x.status])).toEqual([
      ['ant', 'online'],
      ['bee', 'offline'],
      ['cat', 'online'],
    ]);
    const bee = agents.find((x) => x.name === 'bee')!;
    expect(bee.lastSeen).toEqual(expect.any(Number));
    expect(bee).toMatchObject({ provider: 'scripted', registered: false });
    expect(rig.registry.list().sort()).toEqual(['ant', 'cat']);
    // The other two still work.
    for (const name of ['ant', 'cat']) {
      const { result } = await collectRun((await rig.registry.get(name)).execute({ prompt: `hi ${name}` }));
      expect(result.status).toBe('completed');
    }
  });

  it('the hub drops connections that stop answering HTTP/2 pings (a peer gone without a word)', async () => {
    rig = await new Rig().start();
    const hub = rig.hub;
    const server = await hub.listen({ pingIntervalMs: 50 });
    // A peer that connects and then says nothing, ever (not even the HTTP/2 preface).
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('data', () => {}); // read what the hub sends (settings, pings); answer nothing
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await server.close();
  });

  it('a clean stop takes the agent offline at once, without waiting for missed heartbeats', async () => {
    // Heartbeats of a minute: only the goodbye can explain an immediate offline.
    rig = await new Rig({ heartbeatMs: 60_000 }).start();
    const d = rig.dial('quick', agent());
    await d.whenOnline();
    await d.stop();
    expect(d.status).toBe('stopped');
    await rig.waitFor((l) => l[0]?.status === 'offline', 'quick offline');
  });
});
