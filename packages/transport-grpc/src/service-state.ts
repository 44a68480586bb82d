import type { RunSessionChannel } from './run-session-channel.js';
import { silentLogger, systemClock, type AgentRun, type Clock, type CodeAgent, type Logger } from '@forge/core';
import type { AgentServiceOptions, DrainResult } from './agent-service-options.js';
import { AgentService } from './gen/forge/agent/v1/agent_pb.js';
import type { ConnectResponse as WireConnectResponse } from './gen/forge/agent/wire/v1/wire_pb.js';
import { HealthState } from './health.js';
import { Outbox } from './outbox.js';
import type { RunTap, RunTapLimits } from './run-tap.js';

export type ControlMessage = WireConnectResponse['message'];
/** Events leave encoded (event-codec.ts): one encoding per event, no message objects. */
export type StreamOutbox = Outbox<Uint8Array, ControlMessage>;

export interface LiveRun {
  run: AgentRun;
  done: Promise<void>;
  /** Where its events go now, and its latest events for a re-attach. */
  tap: RunTap;
  /** A linked run's session channel, which follows it from stream to stream (run-handover.ts). */
  sessions?: RunSessionChannel;
}

/**
 * What every handler of one AgentService router shares: the agent, its settings, the runs it serves
 * and the response streams that are open. One per `createAgentServiceRoutes` call.
 */
export class ServiceState {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly startedAt: number;
  readonly defaultGraceMs: number;
  readonly health = new HealthState([AgentService.typeName]);
  /** Runs being served, by the id their client routes on. */
  readonly live = new Map<string, LiveRun>();
  /**
   * Runs their stream let go (DetachCommand), by id, until a stream attaches them or their time runs
   * out; kept after they end, so the end still reaches whoever attaches.
   */
  readonly detached = new Map<string, { entry: LiveRun; timer: ReturnType<typeof setTimeout> }>();
  readonly tapLimits: RunTapLimits;
  readonly detachedRunTtlMs: number;
  /** Ends a stream that has nothing left to do, once the server drains. */
  readonly idleEnders = new Set<() => void>();
  draining = false;
  drainPromise: Promise<DrainResult> | undefined;
  private openStreams = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly agent: CodeAgent,
    readonly options: AgentServiceOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.defaultGraceMs = options.defaultGraceMs ?? 30_000;
    this.tapLimits = {
      maxEvents: options.replayEvents ?? 10_000,
      maxBytes: options.replayBytes ?? 16 * 2 ** 20,
    };
    this.detachedRunTtlMs = options.detachedRunTtlMs ?? 120_000;
  }

  // Batches stop at 512 events or about 1 MiB, so one large tool output does not make a huge message.
  newOutbox(): StreamOutbox {
    return new Outbox(
      this.options.streamHighWaterMark ?? 1024,
      this.options.maxBatch ?? 512,
      this.options.maxBatchBytes ?? 1 << 20,
      (e) => e.byteLength,
    );
  }

  streamOpened(): void {
    this.openStreams++;
  }

  streamClosed(): void {
    this.openStreams--;
    if (this.openStreams === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves once every response stream of this router has ended. */
  streamsIdle(): Promise<void> {
    return this.openStreams === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
