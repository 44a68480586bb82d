import { performance } from 'node:perf_hooks';
import { createCodeAgent, defaultCapabilities, type AgentEventInit, type CodeAgent } from '@forge/core';
import { grpcAgent, serveAgent } from '@forge/transport-grpc';
import { startRawStream } from './grpc-raw.js';
import { compare, type BenchModule } from './harness.js';

const N = 50_000;
const events: AgentEventInit[] = Array.from({ length: N }, (_, i) => ({ type: 'text.delta', text: `token ${i} `, messageId: 'msg_1' }));

/** An adapter that emits N events as fast as its reader takes them; a prompt "first" emits one. */
function producer(): CodeAgent {
  return createCodeAgent({
    provider: 'bench',
    capabilities: () => defaultCapabilities(),
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

async function drain(agent: CodeAgent, expected: number): Promise<void> {
  let n = 0;
  for await (const _ of agent.execute({ prompt: 'bench' })) n++;
  if (n !== expected) throw new Error(`got ${n} events, expected ${expected}`);
}

async function firstEventMs(agent: CodeAgent, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const run = agent.execute({ prompt: 'first' });
    const it = run[Symbol.asyncIterator]();
    await it.next();
    times.push(performance.now() - t0);
    while (!(await it.next()).done);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** grpcAgent ↔ serveAgent over loopback HTTP/2, against the same agent iterated in process. */
const bench: BenchModule = {
  title: 'transport-grpc: grpcAgent ↔ serveAgent (loopback)',
  async run() {
    const local = producer();
    const server = await serveAgent(producer(), { port: 0 });
    const remote = grpcAgent({ baseUrl: server.url, provider: 'bench' });
    const http1 = grpcAgent({ baseUrl: server.url, provider: 'bench', protocol: 'connect', httpVersion: '1.1' });
    const raw = await startRawStream(N + 1);
    const rawBatched = await startRawStream(N + 1, 256);
    try {
      const wire = await compare(N, () => drain(remote, N + 1), () => raw.read(), 5);
      const wireBatched = await compare(N, () => drain(remote, N + 1), () => rawBatched.read(), 5);
      const r = await compare(N, () => drain(remote, N + 1), () => drain(local, N + 1), 5);
      const r1 = await compare(N, () => drain(http1, N + 1), () => drain(local, N + 1), 5);
      await firstEventMs(remote, 20); // warm-up
      const remoteFirst = await firstEventMs(remote, 200);
      const localFirst = await firstEventMs(local, 200);
      return [
        {
          name: 'events through the wire (gRPC, Connect stream) vs bare ConnectRPC',
          unit: 'events/s',
          ours: wire.ours,
          baseline: wire.baseline,
          baselineName: 'bare generated client ← server stream of ready-made protobuf events, gRPC',
          goal: 0.8,
        },
        {
          name: 'events through the wire (gRPC, Connect stream) vs bare ConnectRPC, batched',
          unit: 'events/s',
          ours: wireBatched.ours,
          baseline: wireBatched.baseline,
          baselineName: 'the same, 256 ready-made events per message',
        },
        { name: 'events through the wire (gRPC, Connect stream)', unit: 'events/s', ours: r.ours, baseline: r.baseline, baselineName: 'same run iterated in process (ceiling)' },
        { name: 'events through the wire (Connect protocol, HTTP/1.1, Execute)', unit: 'events/s', ours: r1.ours, baseline: r1.baseline, baselineName: 'same run iterated in process (ceiling)' },
        {
          name: 'execute → first event, p50',
          unit: 'ms',
          ours: remoteFirst,
          baseline: localFirst,
          baselineName: 'in process',
          note: 'lower is better; a warm HTTP/2 connection, one Connect stream',
        },
      ];
    } finally {
      await remote.close();
      await http1.close();
      await raw.close();
      await rawBatched.close();
      await server.close({ graceful: false });
    }
  },
};
export default bench;
