import { scriptedAgent } from '@forge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from './test-support/rig.js';

const agent = () => scriptedAgent({ provider: 'far', steps: [] });

/** A log the agent program keeps: lines so far, and a way to follow new ones (what a host's logger would give). */
function liveLog(initial: string[]) {
  const lines = [...initial];
  const waiters = new Set<() => void>();
  const asked: Array<{ tail: number; follow: boolean }> = [];
  let open = 0;
  return {
    asked,
    get open() {
      return open;
    },
    write(line: string) {
      lines.push(line);
      for (const w of waiters) w();
    },
    async *source(o: { tail: number; follow: boolean; signal: AbortSignal }) {
      asked.push({ tail: o.tail, follow: o.follow });
      open++;
      try {
        let at = Math.max(0, lines.length - o.tail);
        for (;;) {
          while (at < lines.length) yield lines[at++]!;
          if (!o.follow || o.signal.aborted) return;
          await new Promise<void>((resolve) => {
            const wake = () => {
              waiters.delete(wake);
              o.signal.removeEventListener('abort', wake);
              resolve();
            };
            waiters.add(wake);
            o.signal.addEventListener('abort', wake);
          });
        }
      } finally {
        open--;
      }
    },
  };
}

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe("an agent's own log over the dial-home link", () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('reads the tail the agent keeps, bounded by the agent at 5,000 lines', async () => {
    rig = await new Rig().start();
    const log = liveLog(['one', 'two', 'three']);
    await rig.dial('logger', agent(), { logs: (o) => log.source(o) }).whenOnline();
    const got: string[] = [];
    for await (const line of rig.hub.logs('logger', { tail: 2 })) got.push(line);
    expect(got).toEqual(['two', 'three']);
    for await (const _ of rig.hub.logs('logger', { tail: 1_000_000 }));
    expect(log.asked.at(-1)).toEqual({ tail: 5_000, follow: false });
  });

  it('follows new lines until the platform’s reader goes, and then the agent stops reading', async () => {
    rig = await new Rig().start();
    const log = liveLog(['booted']);
    await rig.dial('follower', agent(), { logs: (o) => log.source(o) }).whenOnline();
    const controller = new AbortController();
    const iterator = rig.hub
      .logs('follower', { tail: 5, follow: true, signal: controller.signal })
      [Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe('booted');
    const next = iterator.next();
    log.write('run started');
    expect((await next).value).toBe('run started');
    const after = iterator.next();
    controller.abort();
    expect((await after).done).toBe(true);
    // The stop reached the agent: its read ended.
    await waitFor(() => log.open === 0);
  });

  it('answers an empty log for an agent that keeps none, and AGENT_OFFLINE for one not connected', async () => {
    rig = await new Rig().start();
    await rig.dial('quiet', agent()).whenOnline();
    const got: string[] = [];
    for await (const line of rig.hub.logs('quiet', { tail: 10 })) got.push(line);
    expect(got).toEqual([]);
    expect(() => rig.hub.logs('nobody', { tail: 10 })).toThrow(expect.objectContaining({ code: 'AGENT_OFFLINE' }));
  });

  it('ends a follow when the agent’s link drops', async () => {
    rig = await new Rig().start();
    const log = liveLog(['x']);
    const dialled = rig.dial('dropper', agent(), { logs: (o) => log.source(o) });
    await dialled.whenOnline();
    const iterator = rig.hub.logs('dropper', { tail: 1, follow: true })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe('x');
    const next = iterator.next();
    await dialled.stop();
    expect((await next).done).toBe(true);
  });
});
