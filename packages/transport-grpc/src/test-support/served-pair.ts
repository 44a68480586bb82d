import { afterEach } from 'vitest';
import type { CodeAgent } from '@forge/core';
import { grpcAgent, type GrpcAgent, type GrpcAgentOptions } from '../client.js';
import { serveAgent, type AgentServer } from '../serve.js';

/**
 * A server and clients on loopback for one test file, each closed after its test: registers the file's
 * `afterEach` and returns `serve` / `client`.
 */
export function servedPair() {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return {
    cleanups,
    async serve(agent: CodeAgent, opts: Parameters<typeof serveAgent>[1] = {}): Promise<AgentServer> {
      const server = await serveAgent(agent, { port: 0, ...opts });
      cleanups.push(() => server.close({ graceful: false }));
      return server;
    },
    client(baseUrl: string, opts: Omit<GrpcAgentOptions, 'baseUrl'> = {}): GrpcAgent {
      const agent = grpcAgent({ baseUrl, ...opts });
      cleanups.push(() => agent.close());
      return agent;
    },
  };
}
