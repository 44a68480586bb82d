import type { AgentEvent } from '@forge/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE_KEY, readSse, startApiHarness, type ApiHarness } from '../test-support/api-harness.js';

/** Attack findings on resuming a run's SSE stream with Last-Event-ID (what EventSource sends on reconnect). */
describe('resuming a run’s events (Last-Event-ID)', () => {
  let h: ApiHarness;
  let agentId: string;
  let requestId: string;
  let lastSeq: number;

  const events = (headers: Record<string, string>, query = '') =>
    fetch(`${h.url}/api/v1/agents/${agentId}/events?request_id=${requestId}${query}`, {
      headers: { authorization: `Bearer ${ALICE_KEY}`, ...headers },
      // A stream that does not end fails the test quickly instead of hanging it.
      signal: AbortSignal.timeout(5_000),
    });

  beforeAll(async () => {
    h = await startApiHarness();
    const created = await h.call('POST', '/api/v1/agents', { body: { provider: 'scripted' } });
    agentId = created.json.agent_id as string;
    const sent = await h.call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content: 'hello' } });
    expect(sent.status).toBe(202);
    requestId = sent.json.request_id as string;
    const all = (await readSse(await events({}))) as AgentEvent[];
    lastSeq = all.at(-1)!.seq;
    expect(all.at(-1)!.type).toBe('run.completed');
  });
  afterAll(() => h?.close());

  // Failed first: the stream stayed open for ever (the abort above fired after 5 s).
  it('at or past a finished run’s last event ends the stream at once, with nothing in it', async () => {
    for (const id of [lastSeq, lastSeq + 1, 1_000]) {
      const res = await events({ 'last-event-id': String(id) });
      expect(res.status).toBe(200);
      expect(await readSse(res)).toEqual([]);
    }
  });

  // Failed first: above 2^31 was a 200 with an empty stream and a 500 in the log; negative or
  // non-integer ids silently replayed from the start.
  it('outside the seq range (negative, non-integer, beyond the column) is a 400, never a 500', async () => {
    for (const id of ['-1', '1.5', 'abc', '2147483648', '99999999999999999999', '1e3']) {
      const res = await events({ 'last-event-id': id });
      expect([id, res.status]).toEqual([id, 400]);
      expect((await res.json()).error.code).toBe('INVALID_LAST_EVENT_ID');
      const query = await events({}, `&last_event_id=${encodeURIComponent(id)}`);
      expect([id, query.status]).toEqual([id, 400]);
      await query.body?.cancel();
    }
    expect(h.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
