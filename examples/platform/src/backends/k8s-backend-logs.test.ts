import { scriptedAgent } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOB_KEY, startApiHarness, type ApiHarness } from '../test-support/api-harness.js';
import { fakePods } from './fake-pods.js';
import { k8sBackend, type RemoteCodeAgent } from './k8s-backend.js';

const connect = (_address: string, provider: string): RemoteCodeAgent => ({
  ...scriptedAgent({ provider, steps: [] }),
  close: async () => {},
});

/** Reads SSE `data:` lines until `count` have come, then goes (cancels the body). */
async function follow(res: Response, count: number): Promise<string[]> {
  const reader = res.body!.getReader();
  let text = '';
  const lines = () =>
    text
      .split('\n\n')
      .filter((b) => b.startsWith('data: '))
      .map((b) => b.slice(6));
  while (lines().length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  return lines();
}

describe('GET /api/v1/agents/:id/logs (k8s backend: the pod’s log)', () => {
  let h: ApiHarness;
  const fake = fakePods();
  beforeAll(async () => {
    h = await startApiHarness({
      backend: () => k8sBackend({ pods: fake.manager, connect, providers: ['scripted'] }),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('tails and follows the pod log, owner-checked', async () => {
    const created = await h.call('POST', '/api/v1/agents', { body: { provider: 'scripted' } });
    expect(created.status).toBe(201);
    const id = created.json.agent_id as string;
    fake.log({ userId: 'alice', agentId: id }, 'agent-pod listening on :8080', 'run 1 started');

    const tail = await h.call('GET', `/api/v1/agents/${id}/logs?tail=1`);
    expect(tail.json).toEqual({ agent_id: id, lines: ['run 1 started'] });
    expect((await h.call('GET', `/api/v1/agents/${id}/logs`, { key: BOB_KEY })).status).toBe(404);

    const res = await fetch(`${h.url}/api/v1/agents/${id}/logs?follow=1&tail=2`, {
      headers: { authorization: 'Bearer alice-key-0123456789' },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const lines = follow(res, 3);
    fake.log({ userId: 'alice', agentId: id }, 'run 2 started');
    expect(await lines).toEqual(['agent-pod listening on :8080', 'run 1 started', 'run 2 started']);
  });
});
