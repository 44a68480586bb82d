import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createCodeAgent, defaultCapabilities, type AgentEventInit, type CodeAgent } from '@forge/core';
import { grpcAgent, serveAgent } from '@forge/transport-grpc';
import { createAgentHub, dialHome, jsonFileCredentialStore, memoryCredentialStore, type CredentialStore } from '@forge/dial-home';
import { compare, type BenchModule } from './harness.js';

const N = 50_000;
const events: AgentEventInit[] = Array.from({ length: N }, (_, i) => ({ type: 'text.delta', text: `token ${i} `, messageId: 'msg_1' }));
const SECRET = 'dial-home-bench-secret-dial-home-bench-secret';

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
    const it = agent.execute({ prompt: 'first' })[Symbol.asyncIterator]();
    await it.next();
    times.push(performance.now() - t0);
    while (!(await it.next()).done);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** A hub with one dialled-in producer; returns the hub-side CodeAgent. */
async function dialledIn(dir: string, store: CredentialStore, name: string) {
  const hub = createAgentHub({ secret: SECRET, credentialStore: store });
  const server = await hub.listen();
  const link = dialHome({ url: server.url, name, agent: producer(), credentialFile: join(dir, `${name}.json`), enrolmentToken: hub.issueEnrolmentToken().token });
  await link.whenOnline();
  return {
    agent: hub.agent(name)!,
    async close() {
      await link.stop();
      await hub.close();
    },
  };
}

/**
 * Runs through a dial-home link (the agent dials the hub; every agent message is authorised
 * against the credential store) against the same agent behind transport-grpc's serveAgent /
 * grpcAgent over the same loopback HTTP/2: the cost of dialling home over a direct link.
 */
const bench: BenchModule = {
  title: 'dial-home: hub ↔ dialHome (loopback)',
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'forge-dial-home-bench-'));
    const mem = await dialledIn(dir, memoryCredentialStore(), 'mem');
    const file = await dialledIn(dir, jsonFileCredentialStore(join(dir, 'agents.json')), 'file');
    const server = await serveAgent(producer(), { port: 0 });
    const direct = grpcAgent({ baseUrl: server.url, provider: 'bench' });
    try {
      const r = await compare(N, () => drain(mem.agent, N + 1), () => drain(direct, N + 1), 5);
      const rf = await compare(N, () => drain(file.agent, N + 1), () => drain(direct, N + 1), 5);
      await firstEventMs(mem.agent, 20);
      await firstEventMs(direct, 20);
      const dialFirst = await firstEventMs(mem.agent, 200);
      const directFirst = await firstEventMs(direct, 200);
      const baselineName = 'serveAgent ↔ grpcAgent, same loopback';
      return [
        { name: 'events through the link (memory store)', unit: 'events/s', ours: r.ours, baseline: r.baseline, baselineName },
        { name: 'events through the link (JSON file store)', unit: 'events/s', ours: rf.ours, baseline: rf.baseline, baselineName },
        { name: 'execute → first event, p50', unit: 'ms', ours: dialFirst, baseline: directFirst, baselineName, note: 'lower is better' },
      ];
    } finally {
      await direct.close();
      await server.close({ graceful: false });
      await mem.close();
      await file.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
