import { EventEmitter } from 'node:events';
import type { AttachExit, AttachedProcess } from '@forge/core';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { AttachSession } from './attach-session.js';

/** A process whose output the test writes and whose kill ends it with SIGKILL. */
function fakeProcess() {
  let out!: ReadableStreamDefaultController<Uint8Array>;
  let resolveExit!: (e: AttachExit) => void;
  const killed = { count: 0 };
  const proc: AttachedProcess = {
    tty: false,
    stdin: new WritableStream(),
    stdout: new ReadableStream({ start: (c) => void (out = c) }),
    stderr: new ReadableStream({ start: (c) => c.close() }),
    resize() {},
    exited: new Promise((r) => (resolveExit = r)),
    kill() {
      killed.count++;
      try {
        out.close();
      } catch {}
      resolveExit({ code: null, signal: 'SIGKILL' });
    },
    notes: [],
  };
  return {
    proc,
    killed,
    write: (text: string) => out.enqueue(new TextEncoder().encode(text)),
    exit(code: number) {
      out.close();
      resolveExit({ code, signal: null });
    },
  };
}

/** Enough of a ws WebSocket for the session: what it sent, and a close the test can trigger. */
function fakeSocket() {
  const ws = Object.assign(new EventEmitter(), {
    OPEN: 1,
    readyState: 1,
    bufferedAmount: 0,
    sent: [] as Buffer[],
    closedWith: undefined as number | undefined,
    send(data: Buffer, opts?: unknown, cb?: () => void) {
      ws.sent.push(Buffer.from(data));
      (typeof opts === 'function' ? opts : cb)?.();
    },
    close(code: number) {
      ws.closedWith = code;
      ws.readyState = 3;
      ws.emit('close');
    },
    drop() {
      ws.readyState = 3;
      ws.emit('close');
    },
    pause() {},
    resume() {},
    terminate() {},
    text: () => Buffer.concat(ws.sent.map((b) => (b[0] === 1 ? b.subarray(1) : Buffer.alloc(0)))).toString(),
  });
  return ws;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

function session(over: Partial<ConstructorParameters<typeof AttachSession>[0]> = {}) {
  const p = fakeProcess();
  const ends: Array<{ exit: AttachExit | undefined; reason: string }> = [];
  const s = new AttachSession({
    id: 's',
    userId: 'alice',
    agentId: 'agt_x',
    process: p.proc,
    graceMs: 60_000,
    idleMs: 60_000,
    replayBytes: 8,
    highWaterMark: 1024,
    onEnd: (e) => ends.push(e),
    ...over,
  });
  return { s, p, ends };
}

describe('AttachSession', () => {
  it('ends the process after the idle timeout and says why in the status frame', async () => {
    const { s, p, ends } = session({ idleMs: 30 });
    const ws = fakeSocket();
    s.attach(ws as unknown as WebSocket);
    await tick(120);
    expect(p.killed.count).toBeGreaterThan(0);
    const status = JSON.parse(ws.sent.at(-1)!.subarray(1).toString());
    expect(status.message).toMatch(/idle/);
    expect(ends).toEqual([{ exit: { code: null, signal: 'SIGKILL' }, reason: 'idle' }]);
  });

  it('keeps only the last replayBytes of output while detached, and ends the tree when the grace period runs out', async () => {
    const { s, p, ends } = session({ graceMs: 40 });
    const ws = fakeSocket();
    s.attach(ws as unknown as WebSocket);
    ws.drop();
    p.write('0123456789abcdef');
    await tick(5);
    const again = fakeSocket();
    s.attach(again as unknown as WebSocket);
    // Bounded: the oldest output fell out.
    expect(again.text()).toBe('89abcdef');
    again.drop();
    await tick(100);
    expect(p.killed.count).toBeGreaterThan(0);
    expect(ends.map((e) => e.reason)).toEqual(['grace']);
  });

  it('a process that exits while detached is reported to the client that comes back', async () => {
    const { s, p, ends } = session();
    const ws = fakeSocket();
    s.attach(ws as unknown as WebSocket);
    ws.drop();
    p.write('last words');
    p.exit(4);
    await tick(5);
    expect(ends).toEqual([]);
    const again = fakeSocket();
    s.attach(again as unknown as WebSocket);
    expect(again.text()).toBe('st words');
    expect(JSON.parse(again.sent.at(-1)!.subarray(1).toString()).details.causes[0].message).toBe('4');
    expect(again.closedWith).toBe(1000);
    expect(ends).toEqual([{ exit: { code: 4, signal: null }, reason: 'exited' }]);
  });
});
