import { create } from '@bufbuild/protobuf';
import {
  ForgeError,
  TransportError,
  ValidationError,
  type AgentRun,
  type CodeAgent,
  type Logger,
  RunExistsError,
} from '@forge/core';
import type { AsyncQueue } from '@forge/core/internal';
import { proto } from '@forge/transport-grpc';
import type { LinkedSessionStore } from '@forge/transport-grpc';
import {
  RunSessionChannel,
  SessionCallClient,
  applyRunReply,
  errorInfoFromError,
  requestFromProto,
} from '@forge/transport-grpc/internal';
import {
  CarriedRun,
  CarriedRunCodes,
  DEFAULT_DETACHED_RUN_LIMITS,
  type DetachedRunLimits,
  type EventSink,
} from './carried-run.js';
import { subjects } from './subject.js';
import type { AttachBody, Outgoing } from './wire.js';

/** Most events in one message, and about the most bytes (one event always fits); more wait for the next. */
const MAX_BATCH = 512;
const MAX_BATCH_BYTES = 1 << 20;

/** Runs the platform detached, kept going across links (one registry per dialHome). */
export interface DetachedRuns {
  readonly runs: Map<string, CarriedRun>;
  readonly limits: DetachedRunLimits;
}

/**
 * The agent side of one Attach stream: carries out the platform's commands on the local
 * CodeAgent — exactly as AgentService's Connect stream does — and sends the runs' events back.
 * Runs started over a stream do not outlive it (`drop` cancels them), unless the platform detached them first:
 * those go on into `detached` and the next link's AttachCommand takes them up (carried-run.ts).
 */
export class AgentLink implements EventSink {
  private readonly runs = new Map<string, CarriedRun>();
  private dropped = false;
  private draining = false;
  /** Session calls of this link's runs waiting for the platform's replies. */
  private readonly sessions: SessionCallClient;

  constructor(
    private readonly agent: CodeAgent,
    private readonly agentId: string,
    private readonly outbound: AsyncQueue<Outgoing>,
    private readonly logger: Logger,
    private readonly sessionOptions: { store?: LinkedSessionStore; callTimeoutMs: number } = { callTimeoutMs: 30_000 },
    private readonly detached: DetachedRuns = { runs: new Map(), limits: DEFAULT_DETACHED_RUN_LIMITS },
  ) {
    this.sessions = new SessionCallClient(
      (call) => this.send(subjects.run(agentId, call.runId, 'session'), { case: 'sessionCall', value: call }),
      sessionOptions.callTimeoutMs,
      'the platform',
    );
  }

  get runsInFlight(): number {
    return this.runs.size;
  }

  private send(subject: string, body: AttachBody): void {
    this.outbound.push({ subject, body });
  }

  private fail(commandId: string, runId: string, error: unknown): void {
    this.send(subjects.run(this.agentId, runId, 'error'), {
      case: 'error',
      value: create(proto.CommandErrorSchema, { commandId, runId, error: errorInfoFromError(error) }),
    });
  }

  private ack(runId: string, commandId: string): void {
    this.send(subjects.run(this.agentId, runId, 'ack'), {
      case: 'ack',
      value: create(proto.CommandAckSchema, { commandId }),
    });
  }

  handle(command: proto.ConnectRequest): void {
    if (this.dropped) return;
    const { commandId } = command;
    switch (command.command.case) {
      case 'execute': {
        const { runId, request } = command.command.value;
        try {
          if (!runId) throw new ValidationError('RUN_ID_REQUIRED', 'An execute command needs a run_id');
          if (this.draining)
            throw new TransportError('AGENT_STOPPING', 'The agent is stopping and takes no new runs', {
              details: { runId },
            });
          if (this.runs.has(runId) || this.detached.runs.has(runId)) throw new RunExistsError(runId);
          const start = () => this.agent.execute(requestFromProto(request), { runId });
          const store = this.sessionOptions.store;
          // A movable channel: a detached run's session calls wait for the link that attaches it.
          const linked = command.command.value.sessionStore
            ? new RunSessionChannel(this.sessions, this.detached.limits.ttlMs)
            : undefined;
          this.start(runId, store ? store.bind(runId, linked, start) : start(), linked);
        } catch (error) {
          this.fail(commandId, runId, error);
        }
        return;
      }
      case 'cancel': {
        const { runId, reason } = command.command.value;
        void (this.runs.get(runId) ?? this.detached.runs.get(runId))?.run.cancel(reason);
        return;
      }
      case 'detach': {
        const { runId } = command.command.value;
        const carried = this.runs.get(runId);
        if (!carried) {
          this.fail(commandId, runId, notFound(runId, 'on this link'));
          return;
        }
        this.runs.delete(runId);
        carried.detach(() => {
          if (this.detached.runs.get(runId) === carried) this.detached.runs.delete(runId);
        });
        this.detached.runs.set(runId, carried);
        this.logger.info('run detached: it goes on without the platform until an instance attaches it', { runId });
        // After every event already queued for it: the platform has them all once it reads the ack.
        this.ack(runId, commandId);
        return;
      }
      case 'attach': {
        const { runId, afterSeq } = command.command.value;
        const carried = this.detached.runs.get(runId);
        try {
          if (!carried) {
            if (this.runs.has(runId))
              throw new ForgeError(
                CarriedRunCodes.RUN_ATTACHED,
                `Run ${runId} is carried by this link already`,
                'conflict',
                {
                  details: { runId },
                },
              );
            throw notFound(runId, 'detached here');
          }
          carried.attach(this, afterSeq, this.sessions);
        } catch (error) {
          this.fail(commandId, runId, error);
          return;
        }
        this.detached.runs.delete(runId);
        this.own(carried);
        this.logger.info('run attached by the platform', { runId, afterSeq });
        return;
      }
      case 'permissionReply':
      case 'questionAnswer':
      case 'steer': {
        const { runId } = command.command.value;
        applyRunReply(this.runs.get(runId)?.run, command.command).then(
          () => this.ack(runId, commandId),
          (error: unknown) => this.fail(commandId, runId, error),
        );
        return;
      }
      case 'sessionReply':
        if (!this.sessions.reply(command.command.value))
          this.logger.debug('a session reply answered no waiting call', { callId: command.command.value.callId });
        return;
      case 'ping':
        this.send(subjects.pong(this.agentId), {
          case: 'pong',
          value: create(proto.PongSchema, { time: command.command.value.time, serverTime: Date.now() }),
        });
        return;
      default:
        this.fail(commandId, '', new ValidationError('INVALID_COMMAND', 'The command names no known action'));
    }
  }

  /** Sends a run's events as they come; events that pile up go out together as one message. */
  private start(runId: string, run: AgentRun, sessions: RunSessionChannel | undefined): void {
    this.logger.debug('run started for the platform', { runId, provider: run.provider });
    this.own(new CarriedRun(runId, run, this, sessions, this.detached.limits, this.logger));
  }

  private own(carried: CarriedRun): void {
    this.runs.set(carried.runId, carried);
    void carried.pumped.then(() => {
      if (this.runs.get(carried.runId) === carried) this.runs.delete(carried.runId);
    });
  }

  sendEvent(runId: string, bytes: Uint8Array): boolean {
    const subject = subjects.run(this.agentId, runId, 'event');
    return this.outbound.push(
      { subject, body: { case: 'events', value: [bytes], bytes: bytes.byteLength } },
      (last) => {
        const b = last.body;
        if (
          last.subject !== subject ||
          b.case !== 'events' ||
          b.value.length >= MAX_BATCH ||
          b.bytes + bytes.byteLength > MAX_BATCH_BYTES
        )
          return false;
        b.value.push(bytes);
        b.bytes += bytes.byteLength;
        return true;
      },
    );
  }

  drained(): Promise<void> {
    return this.outbound.drained();
  }

  /** Resolves when every run has ended and its events are queued. */
  async settled(): Promise<void> {
    await Promise.all([...this.runs.values()].map((r) => r.pumped));
  }

  /** Cancels every run still live (the link is gone, or the agent is stopping). */
  drop(reason: string): Promise<void> {
    this.dropped = true;
    this.sessions.close();
    const live = [...this.runs.values()];
    if (live.length) this.logger.info('cancelling runs of a dropped link', { runs: live.length, reason });
    return Promise.all(live.map((r) => r.cancel(reason))).then(() => undefined);
  }

  /** Cancels every run but keeps the link to report their ends (a graceful stop). */
  cancelAll(reason: string): Promise<void> {
    this.draining = true;
    // Detached runs too: no platform will take them up once this agent stops.
    const detached = [...this.detached.runs.values()];
    this.detached.runs.clear();
    return Promise.all([...this.runs.values(), ...detached].map((r) => r.cancel(reason))).then(() => undefined);
  }
}

const notFound = (runId: string, where: string) =>
  new ForgeError(CarriedRunCodes.RUN_NOT_FOUND, `No run ${runId} is ${where}`, 'not_found', { details: { runId } });
