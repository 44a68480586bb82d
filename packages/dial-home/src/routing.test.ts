import { afterEach, describe, expect, it } from 'vitest';
import { collectRun, sampleScript, scriptedAgent } from '@forge/core/testing';
import type { HubMessage } from './subscriptions.js';
import { subjects } from './subject.js';
import { Rig } from './test-support/rig.js';
import { waitUntil } from './test-support/wait-until.js';

const agent = () => scriptedAgent({ steps: sampleScript('routed') });

describe('subject routing over loopback', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('routes to a subscription on one agent, one run, and wildcards', async () => {
    rig = await new Rig().start();
    const a = rig.dial('alpha', agent());
    const b = rig.dial('beta', agent());
    await Promise.all([a.whenOnline(), b.whenOnline()]);
    const idA = a.agentId!;
    const idB = b.agentId!;

    const got = {
      agentA: [] as HubMessage[],
      run: [] as HubMessage[],
      allEvents: [] as HubMessage[],
      everything: [] as HubMessage[],
      online: [] as HubMessage[],
    };
    rig.hub.subscribe(`agent.${idA}.>`, (m) => got.agentA.push(m));
    rig.hub.subscribe(subjects.run(idB, 'run-b-1', 'event'), (m) => got.run.push(m));
    rig.hub.subscribe('agent.*.run.*.event', (m) => got.allEvents.push(m));
    rig.hub.subscribe('>', (m) => got.everything.push(m));
    const unsubscribe = rig.hub.subscribe('agent.*.online', (m) => got.online.push(m));

    const runs = await Promise.all([
      collectRun((await rig.registry.get('alpha')).execute({ prompt: 'one' }, { runId: 'run-a-1' })),
      collectRun((await rig.registry.get('beta')).execute({ prompt: 'two' }, { runId: 'run-b-1' })),
      collectRun((await rig.registry.get('beta')).execute({ prompt: 'three' }, { runId: 'run-b-2' })),
    ]);
    const total = runs.reduce((n, r) => n + r.events.length, 0);

    // One agent: its events (and heartbeats), nothing of beta's.
    expect(got.agentA.every((m) => m.agentId === idA)).toBe(true);
    const aEvents = got.agentA.filter((m) => m.type === 'event');
    expect(aEvents.map((m) => m.type === 'event' && m.event)).toEqual(runs[0]!.events);

    // One run: exactly that run's events, in seq order, run.completed last.
    expect(got.run.map((m) => (m.type === 'event' ? m.event : undefined))).toEqual(runs[1]!.events);
    expect(got.run.every((m) => m.subject === `agent.${idB}.run.run-b-1.event`)).toBe(true);

    // Wildcards: every event of every run.
    expect(got.allEvents).toHaveLength(total);
    expect(new Set(got.allEvents.map((m) => m.type === 'event' && m.runId))).toEqual(
      new Set(['run-a-1', 'run-b-1', 'run-b-2']),
    );
    expect(got.everything.filter((m) => m.type === 'event')).toHaveLength(total);

    // Presence: an agent that comes online is announced; an unsubscribed handler hears no more.
    const c = rig.dial('gamma', agent());
    await c.whenOnline();
    expect(got.online).toMatchObject([
      { type: 'online', agentId: c.agentId, agent: { name: 'gamma', status: 'online' } },
    ]);
    unsubscribe();
    await c.stop();
    await waitUntil(() => got.everything.some((m) => m.subject === `agent.${c.agentId}.offline`), 'gamma offline');
    const d = rig.dial('delta', agent());
    await d.whenOnline();
    expect(got.online).toHaveLength(1);
    expect(got.everything.map((m) => m.subject)).toEqual(
      expect.arrayContaining([`agent.${c.agentId}.online`, `agent.${c.agentId}.offline`, `agent.${d.agentId}.online`]),
    );
  });

  it('publishes heartbeats under agent.<id>.heartbeat', async () => {
    rig = await new Rig().start();
    const d = rig.dial('pulse', agent());
    await d.whenOnline();
    const beats = await new Promise<HubMessage>((resolve) => {
      const off = rig.hub.subscribe(`agent.${d.agentId}.heartbeat`, (m) => {
        off();
        resolve(m);
      });
    });
    expect(beats).toMatchObject({ type: 'heartbeat', agentId: d.agentId, runsInFlight: 0 });
  });

  it('refuses a malformed subscription pattern with a typed error', async () => {
    rig = await new Rig().start();
    expect(() => rig.hub.subscribe('agent.>.run', () => {})).toThrow(
      expect.objectContaining({ code: 'INVALID_SUBJECT_PATTERN' }),
    );
    expect(() => rig.hub.subscribe('agent..x', () => {})).toThrow(
      expect.objectContaining({ code: 'INVALID_SUBJECT_PATTERN' }),
    );
  });
});
