import type { AgentEvent } from '@forge/core';
import { grpcAgent, serveAgent, type GrpcAgent } from '@forge/transport-grpc';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../logger.js';
import { RunManager } from '../run-manager.js';
import { testStore } from '../test-support/api-harness.js';
import { gatedAgent } from '../test-support/gated-agent.js';

describe('handing a pod run over between two run managers on one store', () => {
  it('the draining one lets go, the other adopts from the last journaled seq; the agent never stops', async () => {
    const pod = gatedAgent('ses_gated');
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
