import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext } from '@connectrpc/connect';
import { handleConnectCommand, type ConnectStream } from './connect-commands.js';
import { encodeBatch } from './event-codec.js';
import { SessionCallSchema, type ConnectRequest } from './gen/forge/agent/v1/agent_pb.js';
import { SessionCallClient } from './session-call-client.js';
import {
  ConnectResponseSchema as WireConnectResponseSchema,
  type ConnectResponse as WireConnectResponse,
} from './gen/forge/agent/wire/v1/wire_pb.js';
import type { LiveRun, ServiceState } from './service-state.js';

/**
 * The bidi `Connect` RPC: commands in (connect-commands.ts), batched events and control messages out.
 * The stream ends when its input has and its runs have; runs started on it never outlive it.
 */
export function connectHandler(state: ServiceState) {
  return async function* connect(
    requests: AsyncIterable<ConnectRequest>,
    ctx: HandlerContext,
  ): AsyncGenerator<WireConnectResponse> {
    state.streamOpened();
    const outbox = state.newOutbox();
    const mine = new Map<string, LiveRun>();
    let inputDone = false;
    const maybeEnd = () => {
      if ((inputDone || state.draining) && mine.size === 0) outbox.end();
    };
    state.idleEnders.add(maybeEnd);
    const cancelMine = (reason: string) => {
      for (const { run } of mine.values()) void run.cancel(reason);
    };
    const onAbort = () => cancelMine('the client went away');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const sessions = new SessionCallClient(
      (call) => outbox.pushControl({ case: 'sessionCall', value: toBinary(SessionCallSchema, call) }),
      state.options.sessionCallTimeoutMs ?? 30_000,
      'the client',
    );
    const stream: ConnectStream = { state, outbox, mine, maybeEnd, sessions };

    let refused: ConnectError | undefined;
    void (async () => {
      try {
        for await (const req of requests) handleConnectCommand(stream, req);
      } catch (error) {
        // Usually the client went away (ctx.signal has fired or will, which cancels its runs). A
        // message the server refused to read (over readMaxBytes, malformed) ends the stream with
        // that error, its runs cancelled, rather than a quiet OK.
        if (error instanceof ConnectError && error.code !== Code.Canceled && !ctx.signal.aborted) {
          refused = error;
          cancelMine(`the stream was refused: ${error.rawMessage}`);
          outbox.close();
        }
      } finally {
        inputDone = true;
        maybeEnd();
      }
    })();

    try {
      for await (const item of outbox.take()) {
        yield create(WireConnectResponseSchema, {
          message: 'events' in item ? { case: 'events', value: encodeBatch(item.events) } : item.control,
        });
      }
    } finally {
      // Whatever ended the stream, runs started on it must not outlive it.
      outbox.close();
      sessions.close();
      cancelMine('the stream to the client ended');
      ctx.signal.removeEventListener('abort', onAbort);
      state.idleEnders.delete(maybeEnd);
      state.streamClosed();
    }
    if (refused) throw refused;
  };
}
