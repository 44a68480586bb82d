import { grpcAgent, serveAgent } from '@forge/transport-grpc';
import { startRawStream } from './grpc-raw.js';
import { compare, type BenchModule } from './harness.js';
import { N, drain, firstEventMs, producer } from './producer-agent.js';

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
      const wire = await compare(
        N,
        () => drain(remote, N + 1),
        () => raw.read(),
        5,
      );
      const wireBatched = await compare(
        N,
        () => drain(remote, N + 1),
        () => rawBatched.read(),
        5,
      );
      const r = await compare(
        N,
        () => drain(remote, N + 1),
        () => drain(local, N + 1),
        5,
      );
      const r1 = await compare(
        N,
        () => drain(http1, N + 1),
        () => drain(local, N + 1),
        5,
      );
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
        {
          name: 'events through the wire (gRPC, Connect stream)',
          unit: 'events/s',
          ours: r.ours,
          baseline: r.baseline,
          baselineName: 'same run iterated in process (ceiling)',
        },
        {
          name: 'events through the wire (Connect protocol, HTTP/1.1, Execute)',
          unit: 'events/s',
          ours: r1.ours,
          baseline: r1.baseline,
          baselineName: 'same run iterated in process (ceiling)',
        },
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
