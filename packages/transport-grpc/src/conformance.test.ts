import { describeCodeAgentConformance, type ConformanceScenario } from '@forge/core/testing/conformance';
import { conformanceScript, scriptedAgent } from '@forge/core/testing';
import { afterAll } from 'vitest';
import { grpcAgent, type GrpcAgentOptions } from './client.js';
import { serveAgent, type AgentServer } from './serve.js';

const servers = new Map<ConformanceScenario, Promise<AgentServer>>();

function server(scenario: ConformanceScenario): Promise<AgentServer> {
  let s = servers.get(scenario);
  if (!s) {
    s = serveAgent(scriptedAgent({ steps: conformanceScript(scenario) }), { port: 0 });
    servers.set(scenario, s);
  }
  return s;
}

afterAll(async () => {
  await Promise.all([...servers.values()].map(async (s) => (await s).close({ graceful: false })));
});

const variants: Array<[string, Omit<GrpcAgentOptions, 'baseUrl'>]> = [
  ['gRPC, runs multiplexed on one Connect stream', {}],
  ['Connect protocol, one Execute call per run', { protocol: 'connect', streaming: 'server' }],
  ['gRPC-Web protocol, one Execute call per run', { protocol: 'grpc-web', streaming: 'server' }],
  ['Connect protocol over HTTP/1.1, one Execute call per run', { protocol: 'connect', httpVersion: '1.1' }],
];

for (const [name, opts] of variants) {
  describeCodeAgentConformance(`grpcAgent ↔ serveAgent(scriptedAgent) over loopback HTTP/2 — ${name}`, {
    makeAgent: async (scenario) => grpcAgent({ baseUrl: (await server(scenario)).url, provider: 'pod', ...opts }),
  });
}
