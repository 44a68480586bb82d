import { scriptedAgent } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedDemoAgent } from '../providers/scripted-demo.js';
import { BOB_KEY, readSse, startApiHarness, type ApiHarness } from '../test-support/api-harness.js';

/** `POST /api/v1/agents/:id/runs/:request_id/steer` on one instance; relayed steering is in replica-replies.test.ts. */
describe('steering a run over the API', () => {
  let h: ApiHarness;
  let agentId: string;
  let stiff: string;

  beforeAll(async () => {
    h = await startApiHarness({
      providers: {
        scripted: scriptedDemoAgent(),
        // Declares no steering: a steer is refused by core with its typed error.
        stiff: scriptedAgent({ provider: 'stiff', steps: [{ type: 'text.delta', text: 'busy' }, { hang: true }] }),
      },
    });
    agentId = (await h.call('POST', '/api/v1/agents', { body: { provider: 'scripted' } })).json.agent_id;
    stiff = (await h.call('POST', '/api/v1/agents', { body: { provider: 'stiff' } })).json.agent_id;
  });
  afterAll(() => h?.close());

  const send = async (agent: string, content: string) => {
    const res = await h.call('POST', `/api/v1/agents/${agent}/messages`, { body: { content } });
    expect(res.status).toBe(202);
    return res.json.request_id as string;
  };
  const steer = (agent: string, requestId: string, body: unknown, key?: string) =>
    h.call('POST', `/api/v1/agents/${agent}/runs/${requestId}/steer`, { body, ...(key ? { key } : {}) });

  it('hands the text to the live run, which reads it while it works', async () => {
    const rid = await send(agentId, 'wait for me');
    const res = await steer(agentId, rid, { text: 'also update the README' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ agent_id: agentId, request_id: rid, steered: true });
    await h.call('POST', `/api/v1/agents/${agentId}/interrupt`);
    const events = await readSse(
      await fetch(`${h.url}/api/v1/agents/${agentId}/events?request_id=${rid}`, {
        headers: { authorization: `Bearer ${'alice-key-0123456789'}` },
      }),
    );
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', text: 'steered: also update the README' }));
  });

  it('answers 404 for an unknown run or another user’s, 409 for a queued or ended one', async () => {
    expect((await steer(agentId, 'req_nope', { text: 'x' })).json.error.code).toBe('REQUEST_NOT_FOUND');
    const rid = await send(agentId, 'wait again');
    const queued = await send(agentId, 'after that');
    const bob = await steer(agentId, rid, { text: 'x' }, BOB_KEY);
    expect([bob.status, bob.json.error.code]).toEqual([404, 'AGENT_NOT_FOUND']);
    const early = await steer(agentId, queued, { text: 'x' });
    expect([early.status, early.json.error.code, early.json.error.details]).toEqual([
      409,
      'RUN_NOT_RUNNING',
      { status: 'queued' },
    ]);
    await h.call('POST', `/api/v1/agents/${agentId}/interrupt?clear=true`);
    const late = await steer(agentId, rid, { text: 'x' });
    expect([late.status, late.json.error.code, late.json.error.details.status]).toEqual([
      409,
      'RUN_NOT_RUNNING',
      'cancelled',
    ]);
  });

  it('refuses a provider that cannot be steered with core’s typed error, as a conflict', async () => {
    const rid = await send(stiff, 'work');
    const res = await steer(stiff, rid, { text: 'x' });
    expect(res.status).toBe(409);
    expect(res.json.error).toMatchObject({ code: 'UNSUPPORTED', details: { feature: 'steering', provider: 'stiff' } });
    await h.call('POST', `/api/v1/agents/${stiff}/interrupt`);
  });

  it('checks the body: text required and non-empty, no other field', async () => {
    const rid = await send(agentId, 'wait once more');
    for (const [body, code] of [
      [{}, 'INVALID_STEER_TEXT'],
      [{ text: '  ' }, 'INVALID_STEER_TEXT'],
      [{ text: 7 }, 'INVALID_STEER_TEXT'],
      [{ text: 'a\u0000b' }, 'INVALID_STEER_TEXT'],
      [{ text: 'x', txt: 'y' }, 'UNKNOWN_FIELD'],
    ] as const) {
      const res = await steer(agentId, rid, body);
      expect([res.status, res.json.error.code], JSON.stringify(body)).toEqual([400, code]);
    }
    await h.call('POST', `/api/v1/agents/${agentId}/interrupt`);
  });
});
