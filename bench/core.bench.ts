import { createCodeAgent, defaultCapabilities, type AgentEventInit } from '@forge/core';
import { compare, type BenchModule } from './harness.js';

const N = 200_000;
const events: AgentEventInit[] = Array.from({ length: N }, (_, i) => ({ type: 'text.delta', text: `token ${i} ` }));

/** Events produced by an adapter and async-iterated by a host, against a bare async generator. */
const bench: BenchModule = {
  title: 'core: AgentRun event delivery',
  async run() {
    const agent = createCodeAgent({
      provider: 'bench',
      capabilities: () => defaultCapabilities(),
      async run(ctx) {
        for (const e of events) if (!ctx.emit(e)) await ctx.drained();
        return {};
      },
    });
    const ours = async () => {
      let n = 0;
      for await (const _ of agent.execute({ prompt: 'bench' })) n++;
      if (n !== N + 1) throw new Error(`got ${n} events`);
    };
    const baseline = async () => {
      // The same event objects a run delivers (envelope + body), made by a bare async generator.
      async function* gen() {
        let seq = 0;
        for (const e of events) yield { runId: 'r', seq: ++seq, time: Date.now(), provider: 'bench', ...e };
      }
      let n = 0;
      for await (const _ of gen()) n++;
      if (n !== N) throw new Error(`got ${n} events`);
    };
    const r = await compare(N, ours, baseline);
    return [
      {
        name: 'produce → async-iterate',
        unit: 'events/s',
        ours: r.ours,
        baseline: r.baseline,
        baselineName: 'bare async generator',
        goal: 0.8,
      },
    ];
  },
};
export default bench;
