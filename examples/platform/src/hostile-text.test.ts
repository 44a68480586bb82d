import type { AgentEvent } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE_KEY, readSse, startApiHarness, type ApiHarness } from './test-support/api-harness.js';

/**
 * Attack finding 1, end to end: a model answer holding text PostgreSQL cannot store as jsonb (a NUL, a lone
 * surrogate) used to fail the final write and leave the run `running` for good — no run.completed, an SSE
 * stream that never ended, and every later message queued behind it. The store now keeps such text exactly.
 */
const HOSTILE = 'before\u0000after \ud800 lone high, \udc00 lone low, \u0001 and \\u0000 as text';

describe('a model answer with a NUL and lone surrogates (attack finding 1)', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({
      providers: {
        hostile: scriptedAgent({
          provider: 'hostile',
          steps: (request) => [
            { type: 'text.delta', text: HOSTILE },
            { type: 'tool.call', callId: `c\u0000${request.prompt}`, name: 'Bash', input: { command: HOSTILE } },
            { type: 'tool.result', callId: `c\u0000${request.prompt}`, output: HOSTILE, isError: false },
            { type: 'message', text: HOSTILE },
          ],
          outcome: { status: 'completed', text: HOSTILE, sessionId: 'ses\u0000\ud800' },
        }),
      },
    });
  });
  afterAll(() => h?.close());

  it('completes the run, keeps the text exactly, ends the stream, and runs the next message', async () => {
    const created = await h.call('POST', '/api/v1/agents', { body: { provider: 'hostile' } });
    expect(created.status).toBe(201);
    const agentId = created.json.agent_id as string;

    const send = async (content: string) => {
      const res = await h.call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content } });
      expect(res.status).toBe(202);
      return res.json.request_id as string;
    };
    const stream = async (requestId: string) => {
      const res = await fetch(`${h.url}/api/v1/agents/${agentId}/events?request_id=${requestId}`, {
        headers: { authorization: `Bearer ${ALICE_KEY}` },
        signal: AbortSignal.timeout(20_000),
      });
      return (await readSse(res)) as AgentEvent[];
    };

    const first = await send('one');
    const events = await stream(first);
    const last = events.at(-1)!;
    expect(last.type).toBe('run.completed');
    expect(last).toMatchObject({ result: { status: 'completed', text: HOSTILE } });
    expect(events.filter((e) => e.type === 'message').map((e) => (e as { text: string }).text)).toEqual([HOSTILE]);

    const run = await h.call('GET', `/api/v1/agents/${agentId}/runs/${first}`);
    expect(run.status).toBe(200);
    expect(run.json.status).toBe('completed');
    expect(run.json.result.text).toBe(HOSTILE);

    // Nothing wedged: the agent takes the next message and finishes it.
    const second = await send('two');
    expect((await stream(second)).at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });
  });
});
