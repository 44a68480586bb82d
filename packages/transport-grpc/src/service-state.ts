import { silentLogger, systemClock, type AgentRun, type Clock, type CodeAgent, type Logger } from '@forge/core';
import type { AgentServiceOptions, DrainResult } from './agent-service-options.js';
import { AgentService } from './gen/forge/agent/v1/agent_pb.js';
import type { ConnectResponse as WireConnectResponse } from './gen/forge/agent/wire/v1/wire_pb.js';
import { HealthState } from './health.js';
import { Outbox } from './outbox.js';

export type ControlMessage = WireConnectResponse['message'];
/** Events leave encoded (event-codec.ts): one encoding per event, no message objects. */
export type StreamOutbox = Outbox<Uint8Array, ControlMessage>;

export interface LiveRun {
  run: AgentRun;
  done: Promise<void>;
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
