import { create, toBinary } from '@bufbuild/protobuf';
import { ValidationError } from '@forge/core';
import { requestFromProto } from './convert-request.js';
import { errorInfoFromError } from './errors.js';
import {
  CommandAckSchema,
  CommandErrorSchema,
  PongSchema,
  type ConnectRequest,
} from './gen/forge/agent/v1/agent_pb.js';
import { applyRunReply } from './run-reply.js';
import type { ControlMessage, LiveRun, ServiceState, StreamOutbox } from './service-state.js';
import { attachRun, bindRun, detachRun } from './run-handover.js';
import { RunSessionChannel } from './run-session-channel.js';
import { startRun } from './start-run.js';
import type { SessionCallClient } from './session-call-client.js';

/** One Connect stream as its commands see it: where replies go and which runs it started. */
export interface ConnectStream {
  readonly state: ServiceState;
  readonly outbox: StreamOutbox;
  /** Runs started on this stream, cancelled when it ends. */
  readonly mine: Map<string, LiveRun>;
  /** Ends the stream if its input is done (or the server drains) and it has no run left. */
  readonly maybeEnd: () => void;
  /** Session calls of this stream's runs waiting for the client's replies. */
  readonly sessions: SessionCallClient;
}

const reply = (stream: ConnectStream, message: ControlMessage) => stream.outbox.pushControl(message);

const fail = (stream: ConnectStream, commandId: string, runId: string, error: unknown) =>
  reply(stream, {
    case: 'error',
    value: toBinary(
      CommandErrorSchema,
      create(CommandErrorSchema, { commandId, runId, error: errorInfoFromError(error) }),
    ),
  });

const ack = (stream: ConnectStream, commandId: string) =>
  reply(stream, { case: 'ack', value: toBinary(CommandAckSchema, create(CommandAckSchema, { commandId })) });

/** Acts on one command of a Connect stream; its answer (ack, error, pong or the run's events) goes to the outbox. */
export function handleConnectCommand(stream: ConnectStream, req: ConnectRequest): void {
  const { state, mine } = stream;
  const { commandId, command } = req;
  switch (command.case) {
    case 'execute': {
      const runId = command.value.runId;
      try {
        if (!runId)
          throw new ValidationError('RUN_ID_REQUIRED', 'An execute command needs a run_id chosen by the client');
        const linked = command.value.sessionStore
          ? new RunSessionChannel(stream.sessions, state.detachedRunTtlMs)
          : undefined;
        const entry = startRun(state, requestFromProto(command.value.request), runId, stream.outbox, undefined, linked);
        if (linked) entry.sessions = linked;
        bindRun(stream, runId, entry);
      } catch (error) {
        fail(stream, commandId, runId, error);
      }
      return;
    }
    case 'cancel': {
      // Answered by the run's own run.completed; cancelling an ended run is not an error.
      const entry = mine.get(command.value.runId) ?? state.live.get(command.value.runId);
      void entry?.run.cancel(command.value.reason);
      return;
    }
    case 'permissionReply':
    case 'questionAnswer':
    case 'steer': {
      const { runId } = command.value;
      applyRunReply((mine.get(runId) ?? state.live.get(runId))?.run, command).then(
        () => ack(stream, commandId),
        (error: unknown) => fail(stream, commandId, runId, error),
      );
      return;
    }
    case 'detach': {
      const { runId } = command.value;
      try {
        // Acknowledged after every event already on this stream, so none of the run follows the ack.
        detachRun(stream, runId);
        ack(stream, commandId);
        stream.maybeEnd();
      } catch (error) {
        fail(stream, commandId, runId, error);
      }
      return;
    }
    case 'attach': {
      const { runId, afterSeq } = command.value;
      try {
        attachRun(stream, runId, afterSeq);
      } catch (error) {
        fail(stream, commandId, runId, error);
      }
      return;
    }
    case 'sessionReply':
      if (!stream.sessions.reply(command.value))
        state.logger.debug('a session reply answered no waiting call', { callId: command.value.callId });
      return;
    case 'ping':
      reply(stream, {
        case: 'pong',
        value: toBinary(PongSchema, create(PongSchema, { time: command.value.time, serverTime: state.clock.now() })),
      });
      return;
    default:
      fail(stream, commandId, '', new ValidationError('INVALID_COMMAND', 'The command names no known action'));
  }
}
