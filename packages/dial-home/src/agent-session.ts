import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { ConnectError } from '@connectrpc/connect';
import {
  TransportError,
  type AgentRequest,
  type AttachOptions,
  type Clock,
  type Logger,
  type PermissionDecision,
} from '@forge/core';
import { AsyncQueue } from '@forge/core/internal';
import { TransportCodes, proto } from '@forge/transport-grpc';
import {
  decisionToProto,
  errorInfoFromError,
  forgeErrorFromInfo,
  requestToProto,
  type SessionGrants,
} from '@forge/transport-grpc/internal';
import type { RunCarrier, TerminalCarrier } from './dialled-agent.js';
import { AttachResponseSchema, LogsRequestSchema, type AttachResponse } from './gen/forge/dialhome/v1/dialhome_pb.js';
import { HubLogStreams, type AgentLogsReadOptions } from './hub-log-streams.js';
import { HubTerminal } from './hub-terminal.js';
import type { RelayedRun } from '@forge/core/internal';
import { parseSubject, subjects, type RunSubjectKind } from './subject.js';
import type { Subscriptions } from './subscriptions.js';
import type { Incoming } from './wire.js';

export interface AgentSessionOptions {
  agentId: string;
  name: string;
  clock: Clock;
  logger: Logger;
  subscriptions: Subscriptions;
  /** How long a permission reply or a question answer waits for the agent's acknowledgement. */
  callTimeoutMs: number;
}

/** One of the Connect stream's commands (forge.agent.v1.ConnectRequest's `command`), as the hub sends them. */
type Command = NonNullable<Parameters<typeof create<typeof proto.ConnectRequestSchema>>[1]>['command'];

interface Pending {
  resolve(): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Why a session ended, for logs, the offline message and the runs it takes down. */
export interface SessionEnd {
  reason: 'disconnected' | 'broken' | 'revoked' | 'heartbeat' | 'replaced' | 'protocol' | 'hub_closing';
  message: string;
  /** How the Attach stream ends for the agent; undefined: it ends cleanly. */
  error?: ConnectError;
}

/**
 * One Attach stream on the platform side: the commands going out, the events coming in, and
 * the runs started over it. When it ends — however — every run still live on it ends as failed
 * with TRANSPORT_BROKEN, and every pending permission reply and answer is rejected: nothing hangs.
 */
export class AgentSession implements RunCarrier, TerminalCarrier {
  readonly outbound = new AsyncQueue<AttachResponse>();
  readonly agentId: string;
  private readonly runs = new Map<string, RelayedRun>();
  /** Where each run's session calls are answered (runs started with a session store). */
  private readonly sessions = new Map<string, SessionGrants>();
  private readonly terminals = new Map<string, HubTerminal>();
  private readonly pending = new Map<string, Pending>();
  private ending: SessionEnd | undefined;
  private endListeners: Array<(end: SessionEnd) => void> = [];
  lastSeen: number;
  private readonly logStreams: HubLogStreams;

  constructor(private readonly options: AgentSessionOptions) {
    this.agentId = options.agentId;
    this.lastSeen = options.clock.now();
    this.logStreams = new HubLogStreams(
      (streamId, request) =>
        this.send(subjects.logs(this.agentId, streamId), {
          case: 'logs',
          value: create(LogsRequestSchema, { streamId, ...request }),
        }),
      options.name,
      options.callTimeoutMs,
    );
  }

  /** The agent's own log lines (its program's stderr, its logger), read over this stream. */
  logs(options: AgentLogsReadOptions): AsyncIterable<string> {
    return this.logStreams.read(options);
  }

  get ended(): SessionEnd | undefined {
    return this.ending;
  }

  get runsInFlight(): number {
    return this.runs.size;
  }

  onEnd(listener: (end: SessionEnd) => void): void {
    if (this.ending) listener(this.ending);
    else this.endListeners.push(listener);
  }

  send(subject: string, body: AttachResponse['body']): void {
    this.outbound.push(create(AttachResponseSchema, { subject, body }));
  }

  start(run: RelayedRun, request: AgentRequest, sessions?: SessionGrants): void {
    if (!this.track(run, sessions)) return;
    this.command(run.id, 'execute', {
      case: 'execute',
      value: { runId: run.id, request: requestToProto(request), sessionStore: sessions !== undefined },
    });
  }

  /**
   * Takes up a run the agent kept going detached (announced in its Hello): its events after `afterSeq` come
   * from the agent's buffer, then live. A refusal (RUN_NOT_FOUND, EVENTS_LOST) ends the run here.
   */
  attachRun(run: RelayedRun, afterSeq: number, sessions?: SessionGrants): void {
    if (!this.track(run, sessions)) return;
    this.command(run.id, 'attach', { case: 'attach', value: { runId: run.id, afterSeq } });
  }

  /**
   * Lets a run go on at the agent without this stream: resolves once the agent has acknowledged (every event
   * it sent before is here by then, and none follows). The run is no longer this session's.
   */
  async detach(runId: string): Promise<void> {
    await this.acknowledged(runId, 'detach', 'the detach', {
      case: 'detach',
      value: create(proto.DetachCommandSchema, { runId }),
    });
    this.runs.delete(runId);
    this.sessions.delete(runId);
  }

  private track(run: RelayedRun, sessions: SessionGrants | undefined): boolean {
    if (this.ending) {
      run.endLocally(this.brokenEnd(this.ending));
      return false;
    }
    this.runs.set(run.id, run);
    if (sessions) this.sessions.set(run.id, sessions);
    void run.result.then(() => {
      if (this.runs.get(run.id) === run) {
        this.runs.delete(run.id);
        this.sessions.delete(run.id);
      }
    });
    return true;
  }

  cancel(runId: string, reason?: string): void {
    if (this.ending) return;
    this.command(runId, 'cancel', { case: 'cancel', value: { runId, reason } });
  }

  respond(runId: string, permissionId: string, decision: PermissionDecision, message?: string): Promise<void> {
    return this.acknowledged(runId, 'permission', 'the permission reply', {
      case: 'permissionReply',
      value: { runId, permissionId, decision: decisionToProto(decision), message },
    });
  }

  answer(runId: string, questionId: string, answers: string[][]): Promise<void> {
    return this.acknowledged(runId, 'answer', 'the answer to a question', {
      case: 'questionAnswer',
      value: { runId, questionId, answers: answers.map((values) => ({ values })) },
    });
  }

  steer(runId: string, text: string): Promise<void> {
    return this.acknowledged(runId, 'steer', 'a steering message', { case: 'steer', value: { runId, text } });
  }

  /**
   * Opens a terminal in the agent's workspace (the agent said in its Hello that it serves them):
   * resolves once the agent has started the process, rejects with its refusal (ATTACH_DISABLED…),
   * or DEADLINE_EXCEEDED after callTimeoutMs.
   */
  async openTerminal(options: AttachOptions, outputWindow: number): Promise<HubTerminal> {
    if (this.ending) {
      throw new TransportError(
        TransportCodes.TRANSPORT_BROKEN,
        `The link to agent ${this.options.name} is gone: ${this.ending.message}`,
      );
    }
    const id = randomUUID();
    const terminal = new HubTerminal((kind, body) => {
      if (!this.ending)
        this.send(subjects.terminal(this.agentId, id, kind), {
          case: 'terminal',
          value: { $typeName: 'forge.dialhome.v1.TerminalDown', terminalId: id, body },
        });
    }, outputWindow);
    this.terminals.set(id, terminal);
    void terminal.exited.then(() => this.terminals.delete(id));
    this.send(subjects.terminal(this.agentId, id, 'open'), {
      case: 'terminal',
      value: {
        $typeName: 'forge.dialhome.v1.TerminalDown',
        terminalId: id,
        body: {
          case: 'open',
          value: {
            $typeName: 'forge.dialhome.v1.TerminalOpen',
            command: [...(options.command ?? [])],
            cwd: options.cwd ?? '',
            tty: options.tty ?? false,
            cols: options.cols ?? 0,
            rows: options.rows ?? 0,
            env: { ...options.env },
            outputWindow,
          },
        },
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new TransportError(
            TransportCodes.DEADLINE_EXCEEDED,
            `Agent ${this.options.name} did not open the terminal within ${this.options.callTimeoutMs} ms`,
          ),
        );
        // It may still start: told to end at once.
        terminal.kill();
        terminal.linkLost('the terminal took too long to open');
      }, this.options.callTimeoutMs);
      timer.unref?.();
    });
    try {
      await Promise.race([terminal.opened, late]);
    } finally {
      clearTimeout(timer);
    }
    return terminal;
  }

  /** Sends a command the agent acknowledges (CommandAck or CommandError), bounded by callTimeoutMs. */
  private acknowledged(
    runId: string,
    kind: 'permission' | 'answer' | 'steer' | 'detach',
    what: string,
    command: Command,
  ): Promise<void> {
    if (this.ending) {
      return Promise.reject(
        new TransportError(
          TransportCodes.TRANSPORT_BROKEN,
          `The link to agent ${this.options.name} is gone: ${this.ending.message}`,
        ),
      );
    }
    const commandId = randomUUID();
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(commandId);
        reject(
          new TransportError(
            TransportCodes.DEADLINE_EXCEEDED,
            `Agent ${this.options.name} did not acknowledge ${what} within ${this.options.callTimeoutMs} ms`,
          ),
        );
      }, this.options.callTimeoutMs);
      timer.unref?.();
      this.pending.set(commandId, { resolve, reject, timer });
    });
    this.command(runId, kind, command, commandId);
    return answered;
  }

  /** Sends one of the Connect stream's commands for a run, under the run's subject of `kind`. */
  private command(runId: string, kind: RunSubjectKind, command: Command, commandId: string = randomUUID()): void {
    this.send(subjects.run(this.agentId, runId, kind), {
      case: 'command',
      value: create(proto.ConnectRequestSchema, { commandId, command }),
    });
  }

  /** One message from the agent (already authorised). Returns a protocol complaint, if any. */
  handle(message: Incoming): string | undefined {
    this.lastSeen = this.options.clock.now();
    const parsed = parseSubject(message.subject);
    if (!parsed || parsed.agentId !== this.agentId)
      return `subject "${message.subject}" is not one of agent ${this.agentId}`;
    const body = message.body;
    switch (body.case) {
      case 'heartbeat': {
        this.send(subjects.heartbeatAck(this.agentId), {
          case: 'heartbeatAck',
          value: {
            $typeName: 'forge.dialhome.v1.HeartbeatAck',
            time: body.value.time,
            serverTime: this.options.clock.now(),
          },
        });
        this.options.subscriptions.publish({
          subject: message.subject,
          type: 'heartbeat',
          agentId: this.agentId,
          time: this.lastSeen,
          runsInFlight: body.value.runsInFlight,
        });
        return undefined;
      }
      case 'events': {
        const runId = parsed.runId;
        if (runId === undefined) return 'events without a run in the subject';
        const run = this.runs.get(runId);
        const publish = this.options.subscriptions.wants(message.subject);
        for (const event of body.value) {
          if (event.runId !== runId) return `an event of run ${event.runId} under the subject of run ${runId}`;
          run?.deliver(event);
          if (publish)
            this.options.subscriptions.publish({
              subject: message.subject,
              type: 'event',
              agentId: this.agentId,
              runId,
              time: event.time,
              event,
            });
        }
        return undefined;
      }
      case 'ack': {
        const p = this.pending.get(body.value.commandId);
        if (p) {
          this.pending.delete(body.value.commandId);
          clearTimeout(p.timer);
          p.resolve();
        }
        return undefined;
      }
      case 'error': {
        const error = forgeErrorFromInfo(body.value.error);
        const p = this.pending.get(body.value.commandId);
        if (p) {
          this.pending.delete(body.value.commandId);
          clearTimeout(p.timer);
          p.reject(error);
          return undefined;
        }
        // An execute the agent refused: the run never started there.
        this.runs.get(body.value.runId)?.endLocally({
          status: 'failed',
          code: error.code,
          message: error.message,
          errorEvent: { retryable: error.retryable, details: { category: error.category, ...error.details } },
        });
        return undefined;
      }
      case 'logLines':
        this.logStreams.deliver(body.value);
        return undefined;
      case 'sessionCall': {
        const runId = parsed.runId;
        const call = body.value;
        if (runId === undefined || call.runId !== runId) return 'a session call outside the subject of its run';
        const reply = (r: proto.SessionReply) =>
          this.command(runId, 'session_reply', { case: 'sessionReply', value: r });
        const grants = this.runs.has(runId) ? this.sessions.get(runId) : undefined;
        if (grants) void grants.answer(call, reply);
        else
          reply(
            create(proto.SessionReplySchema, {
              callId: call.callId,
              result: {
                case: 'error',
                value: errorInfoFromError(
                  new TransportError('SESSION_STORE_ABSENT', 'The platform keeps no session for that run', {
                    retryable: false,
                    details: { runId },
                  }),
                ),
              },
            }),
          );
        return undefined;
      }
      case 'terminal': {
        const terminal = this.terminals.get(body.value.terminalId);
        // One already ended here (killed, timed out): the agent's last words about it are dropped.
        return terminal?.handle(body.value);
      }
      case 'pong':
      case 'hello':
        // A repeated Hello is harmless; pongs answer pings the platform does not send today.
        return undefined;
      default:
        return 'a message without a body';
    }
  }

  /** Ends the session once; runs on it fail with TRANSPORT_BROKEN. */
  end(end: SessionEnd): void {
    if (this.ending) return;
    this.ending = end;
    const runEnd = this.brokenEnd(end);
    for (const run of [...this.runs.values()]) run.endLocally(runEnd);
    this.runs.clear();
    const gone = new TransportError(
      TransportCodes.TRANSPORT_BROKEN,
      `The link to agent ${this.options.name} dropped: ${end.message}`,
    );
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(gone);
    }
    this.pending.clear();
    for (const t of [...this.terminals.values()]) t.linkLost(end.message);
    this.terminals.clear();
    this.logStreams.close(gone);
    // Let queued messages (a final ack) go out unless the stream is dead anyway.
    if (end.reason === 'heartbeat' || end.reason === 'broken') this.outbound.close();
    else this.outbound.end();
    const listeners = this.endListeners;
    this.endListeners = [];
    for (const l of listeners) l(end);
  }

  private brokenEnd(end: SessionEnd) {
    return {
      status: 'failed' as const,
      code: TransportCodes.TRANSPORT_BROKEN,
      message: `The link to agent ${this.options.name} dropped while the run was live (${end.message}); the agent cancels the run`,
      errorEvent: { retryable: true, details: { category: 'transport', agentId: this.agentId, reason: end.reason } },
    };
  }
}
