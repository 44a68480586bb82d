import { performance } from 'node:perf_hooks';
import { createCodeAgent, defaultCapabilities, type AgentEventInit, type CodeAgent } from '@forge/core';

/** Events per benchmark run of the link benchmarks (gRPC, dial-home). */
export const N = 50_000;
const events: AgentEventInit[] = Array.from({ length: N }, (_, i) => ({
  type: 'text.delta',
  text: `token ${i} `,
  messageId: 'msg_1',
}));

/** An adapter that emits N events as fast as its reader takes them; a prompt "first" emits one. */
export function producer(): CodeAgent {
  return createCodeAgent({
    provider: 'bench',
    declared: defaultCapabilities(),
    async run(ctx) {
      if (ctx.request.prompt === 'first') {
        ctx.emit({ type: 'text.delta', text: 'hi' });
        return {};
      }
      for (const e of events) if (!ctx.emit(e)) await ctx.drained();
      return {};
    },
  });
}

/** Reads one whole run of `producer()` through `agent`, checking the count. */
export async function drain(agent: CodeAgent, expected = N + 1): Promise<void> {
  let n = 0;
  for await (const _ of agent.execute({ prompt: 'bench' })) n++;
  if (n !== expected) throw new Error(`got ${n} events, expected ${expected}`);
}

/** Median time from `execute` to the first event, over `runs` runs. */
export async function firstEventMs(agent: CodeAgent, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const it = agent.execute({ prompt: 'first' })[Symbol.asyncIterator]();
    await it.next();
    times.push(performance.now() - t0);
    while (!(await it.next()).done);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
