import { create } from '@bufbuild/protobuf';
import {
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
import { SessionCallClient, applyRunReply, errorInfoFromError, requestFromProto } from '@forge/transport-grpc/internal';
import { subjects } from './subject.js';
import { encodeEvent, type AttachBody, type Outgoing } from './wire.js';

/** Most events in one message, and about the most bytes (one event always fits); more wait for the next. */
const MAX_BATCH = 512;
const MAX_BATCH_BYTES = 1 << 20;

interface LocalRun {
  run: AgentRun;
  pumped: Promise<void>;
}

/**
 * The agent side of one Attach stream: carries out the platform's commands on the local
 * CodeAgent — exactly as AgentService's Connect stream does — and sends the runs' events back.
 * Runs started over a stream do not outlive it: `drop` cancels them.
 */
export class AgentLink {
  private readonly runs = new Map<string, LocalRun>();
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
          if (this.runs.has(runId)) throw new RunExistsError(runId);
          const start = () => this.agent.execute(requestFromProto(request), { runId });
          const store = this.sessionOptions.store;
          const linked = command.command.value.sessionStore ? this.sessions : undefined;
          this.start(runId, store ? store.bind(runId, linked, start) : start());
        } catch (error) {
          this.fail(commandId, runId, error);
        }
        return;
      }
      case 'cancel': {
        const { runId, reason } = command.command.value;
        void this.runs.get(runId)?.run.cancel(reason);
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
  private start(runId: string, run: AgentRun): void {
    const subject = subjects.run(this.agentId, runId, 'event');
    const local: LocalRun = { run, pumped: Promise.resolve() };
    this.runs.set(runId, local);
    this.logger.debug('run started for the platform', { runId, provider: run.provider });
    local.pumped = (async () => {
      try {
        for await (const event of run) {
          const bytes = encodeEvent(event.runId === runId ? event : { ...event, runId });
          const ok = this.outbound.push(
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
          if (!ok) await this.outbound.drained();
        }
      } catch (error) {
        this.logger.error('reading a run failed', { runId, error: String(error) });
        await run.cancel('the agent could not read the run');
      } finally {
        if (this.runs.get(runId) === local) this.runs.delete(runId);
        this.logger.debug('run ended', { runId, status: (await run.result).status });
      }
    })();
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
    return Promise.all(live.map(async (r) => void (await r.run.cancel(reason)))).then(() => undefined);
  }

  /** Cancels every run but keeps the link to report their ends (a graceful stop). */
  cancelAll(reason: string): Promise<void> {
    this.draining = true;
    return Promise.all([...this.runs.values()].map(async (r) => void (await r.run.cancel(reason)))).then(
      () => undefined,
    );
  }
}
