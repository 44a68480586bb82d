import { describe, expect, it } from 'vitest';
import type { PrewarmableAgent, SpareHandle } from './prewarmable-agent.js';
import { SpareKeeper } from './spare-keeper.js';

/** An agent whose spares are records: started with what, and how each ended. */
function fakeAgent() {
  const spares: { request: unknown; why?: string; end: (why: string) => void }[] = [];
  const agent: PrewarmableAgent = {
    prewarm(request) {
      let end!: (why: string) => void;
      const ended = new Promise<string>((resolve) => {
        end = resolve;
      });
      const spare = {
        request,
        end: (why: string) => {
          spare.why ??= why;
          end(why);
        },
      } as (typeof spares)[number];
      spares.push(spare);
      const handle: SpareHandle = { ended, release: () => spare.end('released') };
      return handle;
    },
  };
  return { agent, spares, live: () => spares.filter((s) => s.why === undefined) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SpareKeeper', () => {
  it('keeps one spare per agent: the same options keep it, other options replace it', () => {
    const { agent, spares, live } = fakeAgent();
    const keeper = new SpareKeeper({ max: 4, idleMs: 1000 });
    keeper.keep('u/a', agent, { model: 'sonnet' });
    // A message's own fields never shape a spare.
    keeper.keep('u/a', agent, { model: 'sonnet', prompt: 'hi', sessionId: 's1' } as never);
    expect(spares).toHaveLength(1);
    expect(spares[0]!.request).toEqual({ model: 'sonnet' });
    keeper.keep('u/a', agent, { model: 'opus' });
    expect(spares.map((s) => s.why)).toEqual(['released', undefined]);
    expect(live()).toHaveLength(1);
    expect(keeper.size).toBe(1);
  });

  it('ends the least recently active agent’s spare beyond max', () => {
    const { agent, spares } = fakeAgent();
    const keeper = new SpareKeeper({ max: 2, idleMs: 1000 });
    keeper.keep('u/a', agent, {});
    keeper.keep('u/b', agent, {});
    // A run starts on a: b is now the least recently active.
    keeper.touch('u/a');
    keeper.keep('u/c', agent, {});
    expect(spares.map((s) => s.why)).toEqual([undefined, 'released', undefined]);
    expect([keeper.has('u/a'), keeper.has('u/b'), keeper.has('u/c')]).toEqual([true, false, true]);
  });

  it('frees the slot when a spare is taken or idles out; the next activity asks again', async () => {
    const { agent, spares } = fakeAgent();
    const keeper = new SpareKeeper({ max: 1, idleMs: 1000 });
    keeper.keep('u/a', agent, {});
    spares[0]!.end('idle');
    await tick();
    expect(keeper.size).toBe(0);
    keeper.keep('u/a', agent, {});
    expect(spares).toHaveLength(2);
  });

  it('a forgotten (deleted) agent’s spare ends and none starts for it again', () => {
    const { agent, spares } = fakeAgent();
    const keeper = new SpareKeeper({ max: 2, idleMs: 1000 });
    keeper.keep('u/a', agent, {});
    keeper.forget('u/a');
    keeper.keep('u/a', agent, {});
    expect(spares.map((s) => s.why)).toEqual(['released']);
  });

  it('close ends every spare and keeps none after; max 0 keeps none', () => {
    const { agent, spares, live } = fakeAgent();
    const keeper = new SpareKeeper({ max: 3, idleMs: 1000 });
    keeper.keep('u/a', agent, {});
    keeper.keep('u/b', agent, {});
    keeper.close();
    keeper.keep('u/c', agent, {});
    expect(live()).toEqual([]);
    expect(spares).toHaveLength(2);
    const off = new SpareKeeper({ max: 0, idleMs: 1000 });
    off.keep('u/a', agent, {});
    expect(spares).toHaveLength(2);
    expect(() => new SpareKeeper({ max: -1, idleMs: 1 })).toThrow(RangeError);
  });
});
