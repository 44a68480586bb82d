import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { requestFromProto } from './convert-request.js';
import { forgeErrorToConnect } from './errors.js';
import type { ExecuteRequest } from './gen/forge/agent/v1/agent_pb.js';
import { ExecuteResponseSchema as WireExecuteResponseSchema } from './gen/forge/agent/wire/v1/wire_pb.js';
import type { LiveRun, ServiceState } from './service-state.js';
import { startRun } from './start-run.js';

/** The server-streaming `Execute` RPC: one run per call, its events batched; the caller's abort cancels it. */
export function executeHandler(state: ServiceState) {
  return async function* execute(req: ExecuteRequest, ctx: HandlerContext) {
    state.streamOpened();
    const outbox = state.newOutbox();
    try {
      let entry: LiveRun;
      try {
        entry = startRun(state, requestFromProto(req.request), req.runId || undefined, outbox, ctx.signal);
      } catch (error) {
        throw forgeErrorToConnect(error);
      }
      void entry.done.then(() => outbox.end());
      for await (const item of outbox.take()) {
        if ('events' in item) yield create(WireExecuteResponseSchema, { events: item.events });
      }
    } finally {
      outbox.close();
      state.streamClosed();
    }
  };
}
