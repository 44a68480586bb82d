import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { createClient, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter, createGrpcTransport } from '@connectrpc/connect-node';
import { proto } from '@forge/transport-grpc';

/**
 * The raw baseline for the transport benchmark: a bare ConnectRPC server stream of the same
 * text-delta events as protobuf messages built up front — no run, no seq bookkeeping, no mapping
 * to or from core events — read by a bare generated client. `batch` events per message: 1 is what a
 * direct use of the generated service does; a large batch is the best the wire can do.
 */
export async function startRawStream(
  count: number,
  batch = 1,
): Promise<{ read(): Promise<number>; close(): Promise<void> }> {
  const events = Array.from({ length: count }, (_, i) =>
    create(proto.AgentEventSchema, {
      runId: 'run_1',
      seq: i + 1,
      time: Date.now(),
      provider: 'bench',
      body: {
        case: 'textDelta',
        value: create(proto.TextDeltaEventSchema, { text: `token ${i} `, messageId: 'msg_1' }),
      },
    }),
  );
  const responses: proto.ExecuteResponse[] = [];
  for (let i = 0; i < count; i += batch)
    responses.push(create(proto.ExecuteResponseSchema, { events: events.slice(i, i + batch) }));
  const routes = (router: ConnectRouter) =>
    router.rpc(proto.AgentService.method.execute, async function* () {
      yield* responses;
    });
  const server: Http2Server = createServer(connectNodeAdapter({ routes }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = createClient(proto.AgentService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  return {
    async read() {
      let n = 0;
      for await (const res of client.execute({ runId: 'run_1' })) n += res.events.length;
      if (n !== count) throw new Error(`raw stream gave ${n} events, expected ${count}`);
      return n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Connections the client keeps alive would hold close() open.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        setTimeout(resolve, 200).unref();
      }),
  };
}
