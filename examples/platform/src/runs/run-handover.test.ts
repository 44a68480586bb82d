import { createCodeAgent, defaultCapabilities, type AgentEvent, type AgentResult, type CodeAgent } from '@forge/core';
import { grpcAgent, serveAgent, type GrpcAgent } from '@forge/transport-grpc';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../logger.js';
import { RunManager } from '../run-manager.js';
import { testStore } from '../test-support/api-harness.js';

/** A pod's agent: three events, a wait for the test, then two more and the end. */
function gatedAgent() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let halfway!: () => void;
  const reached = new Promise<void>((resolve) => (halfway = resolve));
  const results: AgentResult[] = [];
  const agent: CodeAgent = createCodeAgent({
    provider: 'scripted',
    declared: defaultCapabilities({ textDeltas: true }),
    async run(ctx) {
      ctx.emit({ type: 'session.started', sessionId: 'ses_gated' });
      ctx.emit({ type: 'text.delta', text: 'a ' });
      ctx.emit({ type: 'text.delta', text: 'b ' });
      halfway();
      await Promise.race([gate, new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }))]);
      // Core ends a cancelled run cancelled, whatever is returned.
      if (ctx.signal.aborted) return { text: '' };
      ctx.emit({ type: 'text.delta', text: 'c ' });
      ctx.emit({ type: 'message', text: 'a b c' });
      return { text: 'a b c', turns: 1 };
    },
  });
  const execute = agent.execute.bind(agent);
  agent.execute = ((...args: Parameters<typeof execute>) => {
    const run = execute(...args);
    void run.result.then((r) => results.push(r));
    return run;
  }) as typeof agent.execute;
  return { agent, release, reached, results };
}

describe('handing a pod run over between two run managers on one store', () => {
  it('the draining one lets go, the other adopts from the last journaled seq; the agent never stops', async () => {
    const pod = gatedAgent();
    const server = await serveAgent(pod.agent, { port: 0 });
    const clients: GrpcAgent[] = [];
    const connect = () => {
      const c = grpcAgent({ baseUrl: server.url, provider: 'scripted' });
      clients.push(c);
      return async () => c;
    };
    const store = await testStore();
    const first = await RunManager.create({ store, agents: connect(), logger: memoryLogger(), pollMs: 50 });
    let second: RunManager | undefined;
    try {
      const agentId = `agt_handover_${Date.now()}`;
      const { run } = await first.submit({ userId: 'u', agentId, request: { prompt: 'go' } });
      await pod.reached;
      second = await RunManager.create({ store, agents: connect(), logger: memoryLogger(), pollMs: 50 });
      const report = await first.drain(5_000);
      expect(report).toEqual({ handedOver: 1, finished: 0, left: 0 });
      expect(first.draining).toBe(true);
      // A draining instance still takes messages, but leaves them queued for the others.
      const queued = await first.submit({ userId: 'u', agentId: `${agentId}_2`, request: { prompt: 'later' } });
      expect(queued.status).toBe('queued');
      expect(first.local(queued.run.requestId)).toBeUndefined();
      await first.close();
      pod.release();
      const events: AgentEvent[] = [];
      for await (const e of second.follow(run.requestId, 0, AbortSignal.timeout(20_000)))
        events.push(JSON.parse(e.body) as AgentEvent);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.type === 'text.delta').map((e) => (e as { text: string }).text)).toEqual([
        'a ',
        'b ',
        'c ',
      ]);
      expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed', text: 'a b c' } });
      const later: AgentEvent[] = [];
      for await (const e of second.follow(queued.run.requestId, 0, AbortSignal.timeout(20_000)))
        later.push(JSON.parse(e.body) as AgentEvent);
      expect(later.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });
      expect(pod.results.map((r) => r.status)).toEqual(['completed', 'completed']);
      expect((await second.get('u', run.requestId))?.handedOverAt).toBeUndefined();
    } finally {
      await first.close();
      await second?.close();
      for (const c of clients) await c.close();
      await server.close({ graceful: false });
    }
  }, 240_000);
});
