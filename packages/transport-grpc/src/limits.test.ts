import { collectRun, sampleScript, scriptedAgent } from '@forge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { grpcAgent } from './client.js';
import { serveAgent, type AgentServer } from './serve.js';
import { oversizedGrpcCall } from './oversized-grpc-call.js';

const RESOURCE_EXHAUSTED = 8;
const UNAUTHENTICATED = 16;

describe('serveAgent message size limits', () => {
  const servers: AgentServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close({ graceful: false });
  });
  const serve = async (opts: Parameters<typeof serveAgent>[1] = {}) => {
    const s = await serveAgent(scriptedAgent({ steps: sampleScript() }), { port: 0, ...opts });
    servers.push(s);
    return s;
  };

  it('refuses a message announcing 128 MiB from its header, without reading it', async () => {
    const server = await serve({ authToken: 'pod-token' });
    for (const path of ['/forge.agent.v1.AgentService/Execute', '/forge.agent.v1.AgentService/Connect']) {
      const answer = await oversizedGrpcCall(server.url, path, 128 * 1024 * 1024, {
        authorization: 'Bearer pod-token',
      });
      expect(answer.status).toBe(RESOURCE_EXHAUSTED);
      expect(answer.message).toMatch(/message size .* is larger than configured readMaxBytes 4194304/);
    }
  });

  it('refuses a call without the token from its headers, unary calls too, without reading the body', async () => {
    const server = await serve({ authToken: 'pod-token' });
    for (const method of ['Execute', 'Connect', 'GetStatus', 'CancelRun', 'Shutdown']) {
      const answer = await oversizedGrpcCall(server.url, `/forge.agent.v1.AgentService/${method}`, 1024 * 1024, {
        authorization: 'Bearer wrong',
      });
      expect(answer, method).toEqual({ status: UNAUTHENTICATED, message: 'A valid bearer token is required' });
    }
  });

  it('takes a configured readMaxBytes', async () => {
    const server = await serve({ readMaxBytes: 2_000 });
    const remote = grpcAgent({ baseUrl: server.url, streaming: 'server' });
    expect((await collectRun(remote.execute({ prompt: 'short' }))).result.status).toBe('completed');
    const big = await collectRun(remote.execute({ prompt: 'x'.repeat(3_000) }));
    expect(big.result.status).toBe('failed');
    expect(big.result.error?.message).toMatch(/readMaxBytes/);
    await remote.close?.();
  });
});
