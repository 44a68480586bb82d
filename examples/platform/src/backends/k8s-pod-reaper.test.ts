import type { ParkedAgent } from '@forge/store';
import { describe, expect, it } from 'vitest';
import { fakePods } from './fake-pods.js';
import { PodReaper, type AgentActivity } from './k8s-pod-reaper.js';

/** The store's parked rows, in memory. */
function memoryParked() {
  const rows = new Map<string, ParkedAgent>();
  return {
    rows,
    park: async (a: ParkedAgent) => void rows.set(`${a.userId}/${a.agentId}`, a),
    remove: async (userId: string, agentId: string) => rows.delete(`${userId}/${agentId}`),
  };
}

const HOUR = 3_600_000;

async function setup() {
  const fake = fakePods();
  const t0 = 1_700_000_000_000;
  const made = async (agentId: string) => {
    const id = { userId: 'alice', agentId };
    await fake.manager.createPod(id, {
      env: { FORGE_PROVIDER: 'claude-code' },
      annotations: { 'forge.dev/provider': 'claude-code', 'forge.dev/agent-created-at': String(t0) },
    });
    await fake.manager.waitForPodReady(id);
  };
  const activity = new Map<string, AgentActivity>();
  const parked = memoryParked();
  let now = t0 + 2 * HOUR;
  const reaper = new PodReaper({
    pods: fake.manager,
    parked,
    activity: async (_u, agentId) => activity.get(agentId) ?? { busy: false },
    idleTtlMs: HOUR,
    intervalMs: 60_000,
    now: () => now,
  });
  return { fake, made, activity, parked, reaper, t0, advance: (ms: number) => (now += ms) };
}

describe('PodReaper (reapOrphans on a schedule, idle TTL)', () => {
  it('removes an idle pod and parks its agent; keeps a busy one and one that ran recently', async () => {
    const { fake, made, activity, parked, reaper, t0 } = await setup();
    await made('agt_idle0000000000');
    await made('agt_busy0000000000');
    await made('agt_recent00000000');
    activity.set('agt_busy0000000000', { busy: true, lastRunAt: t0 });
    activity.set('agt_recent00000000', { busy: false, lastRunAt: t0 + 90 * 60_000 });

    const { reaped } = await reaper.sweep();
    expect(reaped.map((p) => p.agentId)).toEqual(['agt_idle0000000000']);
    expect([...fake.pods.keys()].sort()).toEqual(['alice/agt_busy0000000000', 'alice/agt_recent00000000']);
    expect([...parked.rows.values()]).toEqual([
      expect.objectContaining({
        userId: 'alice',
        agentId: 'agt_idle0000000000',
        provider: 'claude-code',
        createdAt: t0,
      }),
    ]);
  });

  it('never reaps a pod whose run started after the pass looked: busy is asked again before the delete', async () => {
    const { fake, made, activity, parked, reaper } = await setup();
    await made('agt_late0000000000');
    let asked = 0;
    // Idle when listed, busy when asked again right before the delete.
    Object.defineProperty(activity, 'get', {
      value: () => ({ busy: asked++ > 0 }),
    });
    const { reaped } = await reaper.sweep();
    expect(reaped).toEqual([]);
    expect(fake.pods.has('alice/agt_late0000000000')).toBe(true);
    expect(parked.rows.size).toBe(0);
  });

  it('removes a dead pod (Failed) whatever its activity, parking the agent; without a TTL, only dead pods go', async () => {
    const { fake, made, parked, reaper, t0 } = await setup();
    await made('agt_dead0000000000');
    await made('agt_live0000000000');
    Object.assign(fake.pods.get('alice/agt_dead0000000000')!, { phase: 'Failed', ready: false });
    const noTtl = new PodReaper({
      pods: fake.manager,
      parked,
      activity: async () => ({ busy: false }),
      intervalMs: 60_000,
      now: () => t0 + 100 * HOUR,
    });
    expect((await noTtl.sweep()).reaped.map((p) => p.agentId)).toEqual(['agt_dead0000000000']);
    expect([...fake.pods.keys()]).toEqual(['alice/agt_live0000000000']);
    expect(parked.rows.has('alice/agt_dead0000000000')).toBe(true);
    await reaper.close();
  });

  it('runs on an unref’d timer and stops on close', async () => {
    const { made, fake, reaper } = await setup();
    await made('agt_timer000000000');
    const started = new PodReaper({
      pods: fake.manager,
      parked: memoryParked(),
      activity: async () => ({ busy: false }),
      idleTtlMs: 1_000,
      intervalMs: 5,
      now: () => Date.now() + 10 * HOUR,
    }).start();
    while (fake.pods.size > 0) await new Promise((r) => setTimeout(r, 5));
    await started.close();
    await reaper.close();
    // Closed: a pod made now stays.
    await made('agt_after000000000');
    await new Promise((r) => setTimeout(r, 30));
    expect(fake.pods.size).toBe(1);
  });
});
