import { EventEmitter, getEventListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JournalEvent } from '@forge/store';
import { describe, expect, it } from 'vitest';
import { lastEventId, streamRun } from './sse.js';

/** A response that records what is written; `write` says the buffer is full for the first `full` writes. */
function fakeResponse(full = 0) {
  let writes = 0;
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
      return ++writes > full;
    },
    end() {
      res.ended = true;
    },
  });
  return res;
}

const journal = (n: number): JournalEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    type: i + 1 === n ? 'run.completed' : 'text.delta',
    time: i,
    body: JSON.stringify({ seq: i + 1, type: i + 1 === n ? 'run.completed' : 'text.delta' }),
  }));

async function* from(events: JournalEvent[]) {
  yield* events;
}

describe('streamRun', () => {
  it('writes id/data frames of the events it is given and ends after them', async () => {
    const res = fakeResponse();
    await streamRun(
      new EventEmitter() as IncomingMessage,
      res as unknown as ServerResponse,
      'req_1',
      () => from(journal(4).slice(2)),
      {},
    );
    const frames = res.chunks.filter((c) => c.startsWith('id:'));
    expect(frames.map((f) => Number(/^id: (\d+)/.exec(f)![1]))).toEqual([3, 4]);
    expect(JSON.parse(frames[1]!.split('data: ')[1]!).type).toBe('run.completed');
    expect(res.ended).toBe(true);
  });

  it('waits for a slow reader (drain) instead of buffering without bound, and stops when it goes away', async () => {
    const req = new EventEmitter() as IncomingMessage;
    const res = fakeResponse(2); // the opening comment, then the first frame
    let pulled = 0;
    let aborted = false;
    const streaming = streamRun(
      req,
      res as unknown as ServerResponse,
      'req_1',
      async function* (signal) {
        signal.addEventListener('abort', () => (aborted = true));
        for (const e of journal(10)) {
          pulled++;
          yield e;
        }
      },
      {},
    );
    await new Promise((r) => setImmediate(r));
    // The first frame filled the buffer: nothing more is pulled until it drains.
    expect(pulled).toBe(1);
    req.emit('close');
    await streaming;
    expect(aborted).toBe(true);
    expect(pulled).toBe(1);
    expect(res.ended).toBe(true);
  });

  it('keeps no listener behind for a reader that drains: a long stream to a slow reader does not pile them up', async () => {
    const req = new EventEmitter() as IncomingMessage;
    // Every write fills the buffer; the reader drains each one a moment later.
    const res = Object.assign(fakeResponse(Number.POSITIVE_INFINITY), {});
    const write = res.write;
    res.write = (chunk: string) => {
      write(chunk);
      setImmediate(() => res.emit('drain'));
      return false;
    };
    let most = 0;
    const streaming = streamRun(
      req,
      res as unknown as ServerResponse,
      'req_1',
      async function* (signal) {
        for (const e of journal(50)) {
          most = Math.max(most, getEventListeners(signal, 'abort').length);
          yield e;
        }
      },
      {},
    );
    await streaming;
    expect(res.chunks.filter((c) => c.startsWith('id:'))).toHaveLength(50);
    expect(most).toBeLessThanOrEqual(1);
    expect(res.listenerCount('drain')).toBe(0);
  });

  it('reads Last-Event-ID from the header or the query', () => {
    const req = (h: Record<string, string>) => ({ headers: h }) as unknown as IncomingMessage;
    expect(lastEventId(req({ 'last-event-id': '7' }), new URL('http://x/'))).toBe(7);
    expect(lastEventId(req({}), new URL('http://x/?last_event_id=4'))).toBe(4);
    expect(lastEventId(req({}), new URL('http://x/'))).toBe(0);
    for (const bad of ['x', '-1', '1.5', '1e3', '2147483648'])
      expect(() => lastEventId(req({ 'last-event-id': bad }), new URL('http://x/'))).toThrow(
        expect.objectContaining({ status: 400, code: 'INVALID_LAST_EVENT_ID' }),
      );
  });
});
