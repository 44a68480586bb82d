import { create, fromBinary } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { TransportError, type Logger, type PermissionDecision } from '@forge/core';
import { AsyncQueue } from '@forge/core/internal';
import { decisionToProto } from './convert-request.js';
import { decodeBatch } from './event-codec.js';
import { TransportCodes, errorInfoFromError, forgeErrorFromInfo } from './errors.js';
import {
  CommandAckSchema,
  CommandErrorSchema,
  ConnectRequestSchema,
  SessionCallSchema,
  SessionReplySchema,
  type AgentRequest as ProtoAgentRequest,
  type ConnectRequest,
  type SessionReply,
} from './gen/forge/agent/v1/agent_pb.js';
import type { ConnectResponse } from './gen/forge/agent/wire/v1/wire_pb.js';
import type { WireAgentService } from './wire-service.js';
import { endForRemoteError, endForStreamError } from './link-errors.js';
import type { RelayedRun, RunLink } from '@forge/core/internal';
import type { SessionGrants } from './session-grants.js';

export interface ConnectLinkOptions {
  /** "the agent at http://…", for messages. */
  target: string;
  /** How long a stream with no live run stays open for the next one. */
  idleStreamMs: number;
  /** A new stream whose server has not answered its opening ping by then is given up. */
  connectTimeoutMs: number;
  /** How long a permission reply waits for the agent's acknowledgement. */
  callTimeoutMs: number;
  logger: Logger;
  /** The client's session store, answering the agent's session calls for the runs it started. */
  sessions?: SessionGrants;
}

/**
 * Runs multiplexed over `Connect` streams: one stream carries every concurrent run; it is opened
 * on the first run and half-closed after `idleStreamMs` without runs. When a stream breaks, each
 * run on it ends with one run.completed (failed, TRANSPORT_BROKEN) and the next run opens a new
 * stream.
 */
export class ConnectLink implements RunLink {
  private current: ConnectStream | undefined;
  private readonly streams = new Set<ConnectStream>();

  constructor(
    private readonly client: Client<WireAgentService>,
    private readonly options: ConnectLinkOptions,
  ) {}

  start(run: RelayedRun, request: ProtoAgentRequest): void {
    this.usableStream().start(run, request);
  }

  /** Takes over a run another client detached, its events after `afterSeq` first (AttachCommand). */
  attach(run: RelayedRun, afterSeq: number): void {
    this.usableStream().attach(run, afterSeq);
  }

  /**
   * Lets the run go on at the agent without this client (DetachCommand): resolves once the agent has
   * acknowledged, after which no event of the run comes here. The caller ends its side of the run.
   */
  async detach(runId: string): Promise<void> {
    const stream = this.owner(runId);
    if (!stream) throw new TransportError(TransportCodes.TRANSPORT_BROKEN, `The stream of run ${runId} is gone`);
    await stream.command({ case: 'detach', value: { $typeName: 'forge.agent.v1.DetachCommand', runId } });
  }

  private usableStream(): ConnectStream {
    if (!this.current?.usable) {
      const stream = new ConnectStream(this.client, this.options, () => {
        this.streams.delete(stream);
        if (this.current === stream) this.current = undefined;
      });
      this.streams.add(stream);
      this.current = stream;
    }
    return this.current;
  }

  runEnded(run: RelayedRun): void {
    for (const s of this.streams) if (s.runEnded(run)) return;
  }

  cancel(runId: string, reason?: string): void {
    this.owner(runId)?.send({ case: 'cancel', value: { $typeName: 'forge.agent.v1.CancelCommand', runId, reason } });
  }

  async respond(runId: string, permissionId: string, decision: PermissionDecision, message?: string): Promise<void> {
    await this.command(runId, {
      case: 'permissionReply',
      value: {
        $typeName: 'forge.agent.v1.PermissionReplyCommand',
        runId,
        permissionId,
        decision: decisionToProto(decision),
        message,
      },
    });
  }

  async answer(runId: string, questionId: string, answers: string[][]): Promise<void> {
    await this.command(runId, {
      case: 'questionAnswer',
      value: {
        $typeName: 'forge.agent.v1.QuestionAnswerCommand',
        runId,
        questionId,
        answers: answers.map((values) => ({ $typeName: 'forge.agent.v1.StringList', values })),
      },
    });
  }

  async steer(runId: string, text: string): Promise<void> {
    await this.command(runId, { case: 'steer', value: { $typeName: 'forge.agent.v1.SteerCommand', runId, text } });
  }

  /** Aborts every stream; their runs end as cancelled (CLIENT_CLOSED). */
  close(): void {
    for (const s of this.streams) s.abort();
  }

  /** Sends a reply command on the stream that carries the run, and waits for the agent's acknowledgement. */
  private async command(runId: string, command: Parameters<ConnectStream['command']>[0]): Promise<void> {
    const stream = this.owner(runId);
    if (!stream) throw new TransportError(TransportCodes.TRANSPORT_BROKEN, `The stream of run ${runId} is gone`);
    await stream.command(command);
  }

  private owner(runId: string): ConnectStream | undefined {
    for (const s of this.streams) if (s.has(runId)) return s;
    return undefined;
  }
}

class ConnectStream {
  usable = true;
  private readonly runs = new Map<string, RelayedRun>();
  private readonly pending = new Map<string, { resolve(): void; reject(e: Error): void }>();
  private readonly requests = new AsyncQueue<ConnectRequest>();
  private readonly controller = new AbortController();
  private nextCommand = 0;
  private reachedAgent = false;
  private closedByClient = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private giveUpReason: Error | undefined;

  constructor(
    client: Client<WireAgentService>,
    private readonly options: ConnectLinkOptions,
    onClosed: () => void,
  ) {
    void this.read(client).finally(onClosed);
    // The server answers a ping at once, whatever its runs do: silence means it is not there
    // (a host that accepts connections but never speaks HTTP/2 would otherwise hang every run).
    this.send({ case: 'ping', value: { $typeName: 'forge.agent.v1.PingCommand', time: Date.now() } });
    this.connectTimer = setTimeout(() => {
      if (this.reachedAgent) return;
      this.giveUpReason = new TransportError(
        TransportCodes.UNAVAILABLE,
        `Could not reach ${options.target}: no answer within ${options.connectTimeoutMs} ms`,
      );
      this.usable = false;
      this.controller.abort(this.giveUpReason);
    }, options.connectTimeoutMs);
    this.connectTimer.unref?.();
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  start(run: RelayedRun, request: ProtoAgentRequest): void {
    clearTimeout(this.idleTimer);
    this.runs.set(run.id, run);
    this.send({
      case: 'execute',
      value: {
        $typeName: 'forge.agent.v1.ExecuteCommand',
        runId: run.id,
        request,
        sessionStore: this.options.sessions !== undefined,
      },
    });
  }

  attach(run: RelayedRun, afterSeq: number): void {
    clearTimeout(this.idleTimer);
    this.runs.set(run.id, run);
    this.send({ case: 'attach', value: { $typeName: 'forge.agent.v1.AttachCommand', runId: run.id, afterSeq } });
  }

  runEnded(run: RelayedRun): boolean {
    if (this.runs.get(run.id) !== run) return false;
    this.runs.delete(run.id);
    if (this.runs.size === 0 && this.usable) {
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => this.halfClose(), this.options.idleStreamMs);
      this.idleTimer.unref?.();
    }
    return true;
  }

  send(command: ConnectRequest['command']): string {
    const commandId = String(++this.nextCommand);
    this.requests.push(create(ConnectRequestSchema, { commandId, command }));
    return commandId;
  }

  command(command: ConnectRequest['command']): Promise<void> {
    return new Promise((resolve, reject) => {
      const id = this.send(command);
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        reject(
          new TransportError(
            TransportCodes.DEADLINE_EXCEEDED,
            `${this.options.target} did not answer within ${this.options.callTimeoutMs} ms`,
          ),
        );
      }, this.options.callTimeoutMs);
      timer.unref?.();
      this.pending.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  abort(): void {
    this.closedByClient = true;
    this.usable = false;
    this.controller.abort();
  }

  private halfClose(): void {
    if (this.runs.size) return;
    // The server ends the stream once its runs are done, which ends `read`.
    this.usable = false;
    this.requests.end();
  }

  private async read(client: Client<WireAgentService>): Promise<void> {
    let failure: unknown;
    try {
      for await (const res of client.connect(this.requests, { signal: this.controller.signal })) {
        if (!this.reachedAgent) {
          this.reachedAgent = true;
          clearTimeout(this.connectTimer);
        }
        const behind = this.dispatch(res);
        if (behind) await behind.drained();
      }
    } catch (error) {
      failure = this.giveUpReason ?? error;
    }
    this.usable = false;
    clearTimeout(this.idleTimer);
    clearTimeout(this.connectTimer);
    this.requests.end();
    this.failAll(failure);
  }

  /** Hands out a response; returns a run whose reader is behind, if any, to pause reading for. */
  private dispatch(res: ConnectResponse): RelayedRun | undefined {
    const m = res.message;
    switch (m.case) {
      case 'events': {
        let behind: RelayedRun | undefined;
        for (const event of decodeBatch(m.value)) {
          const run = this.runs.get(event.runId);
          if (run && !run.deliver(event)) behind = run;
        }
        return behind;
      }
      case 'ack':
        this.settle(fromBinary(CommandAckSchema, m.value).commandId);
        return undefined;
      case 'error': {
        const info = fromBinary(CommandErrorSchema, m.value);
        const error = forgeErrorFromInfo(info.error);
        if (this.settle(info.commandId, error)) return undefined;
        const run = this.runs.get(info.runId);
        if (run) run.endLocally(endForRemoteError(error));
        else this.options.logger.warn('the agent reported an error', { error: error.toJSON() });
        return undefined;
      }
      case 'sessionCall': {
        const call = fromBinary(SessionCallSchema, m.value);
        const answer = (reply: SessionReply) => this.send({ case: 'sessionReply', value: reply });
        if (this.options.sessions && this.runs.has(call.runId)) void this.options.sessions.answer(call, answer);
        else
          answer(
            create(SessionReplySchema, {
              callId: call.callId,
              result: {
                case: 'error',
                value: errorInfoFromError(
                  new TransportError('SESSION_STORE_ABSENT', 'This client keeps no session for that run', {
                    retryable: false,
                    details: { runId: call.runId },
                  }),
                ),
              },
            }),
          );
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private settle(commandId: string, error?: Error): boolean {
    const p = this.pending.get(commandId);
    if (!p) return false;
    this.pending.delete(commandId);
    if (error) p.reject(error);
    else p.resolve();
    return true;
  }

  private failAll(failure: unknown): void {
    const end = this.closedByClient
      ? {
          status: 'cancelled' as const,
          code: TransportCodes.CLIENT_CLOSED,
          message: 'The client was closed while the run was live',
        }
      : endForStreamError(failure, this.options.target, this.reachedAgent);
    for (const run of [...this.runs.values()]) run.endLocally(end);
    this.runs.clear();
    const error = new TransportError(
      TransportCodes.TRANSPORT_BROKEN,
      `The stream to ${this.options.target} ended before the agent answered`,
    );
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
