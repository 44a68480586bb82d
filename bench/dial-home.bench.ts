import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grpcAgent, serveAgent } from '@forge/transport-grpc';
import {
  createAgentHub,
  dialHome,
  jsonFileCredentialStore,
  memoryCredentialStore,
  type CredentialStore,
} from '@forge/dial-home';
import { compare, type BenchModule } from './harness.js';
import { N, drain, firstEventMs, producer } from './producer-agent.js';

const SECRET = 'dial-home-bench-secret-dial-home-bench-secret';

/** A hub with one dialled-in producer; returns the hub-side CodeAgent. */
async function dialledIn(dir: string, store: CredentialStore, name: string) {
  const hub = createAgentHub({ secret: SECRET, credentialStore: store });
  const server = await hub.listen();
  const link = dialHome({
    url: server.url,
    name,
    agent: producer(),
    credentialFile: join(dir, `${name}.json`),
    enrolmentToken: hub.issueEnrolmentToken().token,
  });
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
 * Runs through a dial-home link (the agent dials the hub; its credential is re-checked against the
 * credential store at most once per `credentialCheckMs`) against the same agent behind transport-grpc's serveAgent /
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
      const r = await compare(
        N,
        () => drain(mem.agent, N + 1),
        () => drain(direct, N + 1),
        5,
      );
      const rf = await compare(
        N,
        () => drain(file.agent, N + 1),
        () => drain(direct, N + 1),
        5,
      );
      await firstEventMs(mem.agent, 20);
      await firstEventMs(direct, 20);
      const dialFirst = await firstEventMs(mem.agent, 200);
      const directFirst = await firstEventMs(direct, 200);
      const baselineName = 'serveAgent ↔ grpcAgent, same loopback';
      return [
        {
          name: 'events through the link (memory store)',
          unit: 'events/s',
          ours: r.ours,
          baseline: r.baseline,
          baselineName,
        },
        {
          name: 'events through the link (JSON file store)',
          unit: 'events/s',
          ours: rf.ours,
          baseline: rf.baseline,
          baselineName,
        },
        {
          name: 'execute → first event, p50',
          unit: 'ms',
          ours: dialFirst,
          baseline: directFirst,
          baselineName,
          note: 'lower is better',
        },
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
