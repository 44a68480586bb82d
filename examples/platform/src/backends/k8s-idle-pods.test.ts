import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { ParkedAgents } from '@forge/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, testStore, type ApiHarness } from '../test-support/api-harness.js';
import { fakePods } from './fake-pods.js';
import { k8sBackend, type RemoteCodeAgent } from './k8s-backend.js';
import { storeActivity } from './k8s-from-config.js';
import { PodReaper } from './k8s-pod-reaper.js';

const HOUR = 3_600_000;

/** Each pod's agent: answers every message (the scripted sample run). */
const connect = (_address: string, provider: string): RemoteCodeAgent => ({
  ...scriptedAgent({ provider, steps: sampleScript() }),
  close: async () => {},
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('k8s agents: idle pods reaped, recreated at the next message; images from the operator’s list', () => {
  let h: ApiHarness | undefined;
  let started: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    started = await setup();
  });
  afterAll(async () => {
    await h?.close();
  });
  const start = async () => {
    started.fake.calls.length = 0;
    return started;
  };

  async function setup() {
    const store = await testStore();
    const parked = new ParkedAgents(store.sql);
    const fake = fakePods();
    h = await startApiHarness({
      backend: () =>
        k8sBackend({
          pods: fake.manager,
          connect,
          providers: ['scripted'],
          parked,
          images: { python: 'registry.example/agent-python:3.12' },
        }),
    });
    const reaper = new PodReaper({
      pods: fake.manager,
      parked,
      activity: storeActivity(store),
      idleTtlMs: HOUR,
      intervalMs: 60_000,
      now: () => Date.now() + 2 * HOUR,
    });
    const send = async (id: string, content: string) => {
      const sent = await h!.call('POST', `/api/v1/agents/${id}/messages`, { body: { content } });
      expect(sent.status).toBe(202);
      const rid = sent.json.request_id as string;
      let run: { status: string } | undefined;
      await until(async () => {
        run = (await h!.call('GET', `/api/v1/agents/${id}/runs/${rid}`)).json;
        return !['queued', 'running'].includes(run!.status);
      }, `run ${rid}`);
      return run!;
    };
    return { fake, parked, reaper, send };
  }

  it('reaps an idle agent’s pod (the agent stays listed, Idle), and its next message makes a new pod and completes', async () => {
    const { fake, parked, reaper, send } = await start();
    const created = await h!.call('POST', '/api/v1/agents', { body: { provider: 'scripted', image: 'python' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ image: 'python', phase: 'Running', state: 'ready' });
    const id = created.json.agent_id as string;
    expect(fake.calls).toEqual([`create alice/${id} scripted registry.example/agent-python:3.12`]);
    expect((await send(id, 'first')).status).toBe('completed');

    // Two hours on, nothing ran: the pod goes, the agent is parked.
    const { reaped } = await reaper.sweep();
    expect(reaped.map((p) => p.agentId)).toEqual([id]);
    expect(fake.pods.size).toBe(0);
    const idle = await h!.call('GET', `/api/v1/agents/${id}`);
    expect(idle.status).toBe(200);
    expect(idle.json).toMatchObject({ agent_id: id, phase: 'Idle', ready: true, state: 'ready', image: 'python' });
    expect(idle.json.created_at).toBe(created.json.created_at);
    const listed = await h!.call('GET', '/api/v1/agents');
    expect(listed.json.agents.map((a: { agent_id: string }) => a.agent_id)).toEqual([id]);
    expect((await h!.call('GET', `/api/v1/agents/${id}/logs`)).json.lines).toEqual([]);
    const refreshed = await h!.call('GET', `/api/v1/agents/${id}?refresh=true`);
    expect(refreshed.json.live_status.error.code).toBe('AGENT_IDLE');

    // The next message makes the pod again (same image), runs, and the agent is no longer parked.
    expect((await send(id, 'second')).status).toBe('completed');
    expect(fake.calls.filter((c) => c.startsWith('create'))).toEqual([
      `create alice/${id} scripted registry.example/agent-python:3.12`,
      `create alice/${id} scripted registry.example/agent-python:3.12`,
    ]);
    expect(await parked.get('alice', id)).toBeUndefined();
    const awake = await h!.call('GET', `/api/v1/agents/${id}`);
    expect(awake.json).toMatchObject({ phase: 'Running', created_at: created.json.created_at });

    // It ran just now: not idle any more (the reaper's clock is two hours ahead of the run only if nothing ran).
    const busyAgain = await h!.call('POST', '/api/v1/agents', { body: { provider: 'scripted' } });
    const other = busyAgain.json.agent_id as string;
    await reaper.sweep();
    // Both pods are two hours "old" for this reaper; a parked agent is deleted like any other.
    expect(fake.pods.size).toBe(0);
    const deleted = await h!.call('DELETE', `/api/v1/agents/${other}`);
    expect(deleted.status).toBe(200);
    expect((await h!.call('GET', `/api/v1/agents/${other}`)).status).toBe(404);
    expect(await parked.get('alice', other)).toBeUndefined();
  });

  it('refuses an image not on the operator’s list with 400 IMAGE_NOT_ALLOWED, and makes no pod', async () => {
    const { fake } = await start();
    for (const image of ['nope', 'registry.example/agent-python:3.12', 'constructor']) {
      const res = await h!.call('POST', '/api/v1/agents', { body: { provider: 'scripted', image } });
      expect([res.status, res.json.error.code]).toEqual([400, 'IMAGE_NOT_ALLOWED']);
    }
    expect(fake.calls).toEqual([]);
  });
});
