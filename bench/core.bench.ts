import { createCodeAgent, defaultCapabilities, type AgentEventInit } from '@forge/core';
import { compare, type BenchModule } from './harness.js';

const N = 200_000;
const events: AgentEventInit[] = Array.from({ length: N }, (_, i) => ({ type: 'text.delta', text: `token ${i} ` }));
/** Tool calls as the Claude Code mapper makes them: an input object and the native line as `raw`, both walked by the depth/size bound. */
const TOOL_N = 50_000;
const toolEvents: AgentEventInit[] = Array.from({ length: TOOL_N }, (_, i) => {
  const input = { command: `ls -la /tmp/${i}`, description: 'list files', timeout: 120000 };
  return {
    type: 'tool.call',
    callId: `toolu_${i}`,
    name: 'Bash',
    input,
    raw: {
      type: 'assistant',
      message: {
        id: `msg_${i}`,
        role: 'assistant',
        content: [{ type: 'tool_use', id: `toolu_${i}`, name: 'Bash', input }],
        usage: { input_tokens: 10, output_tokens: 20 },
      },
      session_id: 'ses_bench',
    },
  };
});

function deliver(list: AgentEventInit[]) {
  const agent = createCodeAgent({
    provider: 'bench',
    declared: defaultCapabilities(),
    async run(ctx) {
      for (const e of list) if (!ctx.emit(e)) await ctx.drained();
      return {};
    },
  });
  const ours = async () => {
    let n = 0;
    for await (const _ of agent.execute({ prompt: 'bench' })) n++;
    if (n !== list.length + 1) throw new Error(`got ${n} events`);
  };
  const baseline = async () => {
    // The same event objects a run delivers (envelope + body), made by a bare async generator.
    async function* gen() {
      let seq = 0;
      for (const e of list) yield { runId: 'r', seq: ++seq, time: Date.now(), provider: 'bench', ...e };
    }
    let n = 0;
    for await (const _ of gen()) n++;
    if (n !== list.length) throw new Error(`got ${n} events`);
  };
  return compare(list.length, ours, baseline, 9, 'cpu');
}

/** Events produced by an adapter and async-iterated by a host, against a bare async generator. */
const bench: BenchModule = {
  title: 'core: AgentRun event delivery',
  async run() {
    const r = await deliver(events);
    const tools = await deliver(toolEvents);
    return [
      {
        name: 'produce → async-iterate, CPU time',
        unit: 'events/s',
        ours: r.ours,
        baseline: r.baseline,
        baselineName: 'bare async generator',
        goal: 0.8,
      },
      {
        name: 'tool.call events with raw (bounded depth/size), CPU time',
        unit: 'events/s',
        ours: tools.ours,
        baseline: tools.baseline,
        baselineName: 'bare async generator',
        goal: 0.9,
      },
    ];
  },
};
export default bench;
