import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { scriptedAgent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { RunManager } from '../run-manager.js';
import { lastEventId, streamRun } from './sse.js';

/** A response that records what is written; `writableLength` is whatever the test says is unsent. */
function fakeResponse(pending = () => 0) {
  const res = Object.assign(new EventEmitter(), {
    chunks: [] as string[],
    ended: false,
    status: 0,
    writeHead(status: number) {
      res.status = status;
      return res;
    },
    write(chunk: string) {
      res.chunks.push(chunk);
      return true;
    },
    end() {
      res.ended = true;
    },
  });
  // Object.assign would copy a getter's value once; this one must be read live.
  Object.defineProperty(res, 'writableLength', { get: pending });
  return res as typeof res & { readonly writableLength: number };
}

const steps = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'text.delta' as const, text: `${i}` }));

describe('streamRun', () => {
  it('writes id/data frames from after Last-Event-ID and ends after run.completed', async () => {
    const runs = new RunManager();
    const live = await runs.start({
      userId: 'u',
      agentId: 'a',
      agent: scriptedAgent({ steps: steps(3) }),
      request: { prompt: 'go' },
    });
    await live.pumped;
    const res = fakeResponse();
    streamRun(new EventEmitter() as IncomingMessage, res as unknown as ServerResponse, live, 2, {});
    const frames = res.chunks.filter((c) => c.startsWith('id:'));
    expect(frames.map((f) => Number(/^id: (\d+)/.exec(f)![1]))).toEqual([3, 4]);
    expect(JSON.parse(frames[1]!.split('data: ')[1]!).type).toBe('run.completed');
    expect(res.ended).toBe(true);
    await runs.close();
  });

  it('says when the events asked for are no longer buffered', async () => {
    const runs = new RunManager({ bufferEvents: 2 });
    const live = await runs.start({
      userId: 'u',
      agentId: 'a',
      agent: scriptedAgent({ steps: steps(5) }),
      request: { prompt: 'go' },
    });
    await live.pumped;
    const res = fakeResponse();
    streamRun(new EventEmitter() as IncomingMessage, res as unknown as ServerResponse, live, 0, {});
    expect(res.chunks.join('')).toContain(': events 1-4 are no longer buffered');
    await runs.close();
  });

  it('ends the stream of a reader that falls too far behind instead of buffering without bound', async () => {
    const runs = new RunManager();
    const live = await runs.start({
      userId: 'u',
      agentId: 'a',
      agent: scriptedAgent({ steps: steps(10) }),
      request: { prompt: 'go' },
    });
    await live.pumped;
    let unsent = 0;
    const res = fakeResponse(() => unsent);
    const original = res.write.bind(res);
    res.write = (chunk: string) => ((unsent += chunk.length), original(chunk));
    streamRun(
      new EventEmitter() as IncomingMessage,
      res as unknown as ServerResponse,
      live,
      0,
      {},
      { maxPendingBytes: 300 },
    );
    expect(res.ended).toBe(true);
    const frames = res.chunks.filter((c) => c.startsWith('id:'));
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.length).toBeLessThan(11);
    await runs.close();
  });

  it('sends an event JSON.stringify refuses (a BigInt in a tool input) instead of dropping the reader', async () => {
    const runs = new RunManager();
    const live = await runs.start({
      userId: 'u',
      agentId: 'a',
      agent: scriptedAgent({
        steps: [{ type: 'tool.call', callId: 'c1', name: 'Count', input: { n: 10n ** 20n } }, ...steps(1)],
      }),
      request: { prompt: 'go' },
    });
    await live.pumped;
    const res = fakeResponse();
    streamRun(new EventEmitter() as IncomingMessage, res as unknown as ServerResponse, live, 0, {});
    const frames = res.chunks.filter((c) => c.startsWith('id:'));
    const events = frames.map((f) => JSON.parse(f.split('data: ')[1]!));
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[0]).toMatchObject({ type: 'tool.call', input: { n: '100000000000000000000' } });
    expect(events.at(-1).type).toBe('run.completed');
    expect(res.ended).toBe(true);
    await runs.close();
  });

  it('reads Last-Event-ID from the header or the query', () => {
    const req = (h: Record<string, string>) => ({ headers: h }) as unknown as IncomingMessage;
    expect(lastEventId(req({ 'last-event-id': '7' }), new URL('http://x/'))).toBe(7);
    expect(lastEventId(req({}), new URL('http://x/?last_event_id=4'))).toBe(4);
    expect(lastEventId(req({ 'last-event-id': 'x' }), new URL('http://x/'))).toBe(0);
  });
});
