import type { Clock, Logger } from '@forge/core';
import type { LinkedSessionStore } from './linked-session-store.js';

export interface AgentServiceOptions {
  logger?: Logger;
  clock?: Clock;
  /** Serve grpc.health.v1.Health on the same router. Default true. */
  health?: boolean;
  /** Grace period of a graceful drain when the caller gives none. Default 30 s. */
  defaultGraceMs?: number;
  /** Answer the Shutdown RPC. Default true; put an auth interceptor in front of a public server. */
  allowShutdown?: boolean;
  /** Called after a Shutdown RPC has drained the runs (serveAgent closes its server here). */
  onShutdown?: (request: { graceful: boolean; graceMs: number }) => void;
  /** Most runs live at once; more are refused with the retryable AGENT_BUSY. Default: no limit. */
  maxRuns?: number;
  /** Events waiting in one stream's outbox above which its runs are read no further. Default 1,024. */
  streamHighWaterMark?: number;
  /** Most events per written message. Default 512. */
  maxBatch?: number;
  /** A message stops taking events past this many bytes. Default 1 MiB. */
  maxBatchBytes?: number;
  /**
   * How long a run its client detached from (Connect's DetachCommand, a host handing the run to another
   * replica) keeps going without a client before it is cancelled, and how long a detached run that ended is
   * kept for a re-attach. Default 120 s.
   */
  detachedRunTtlMs?: number;
  /** Latest events kept per run for a re-attach (AttachCommand's after_seq). Default 10,000. */
  replayEvents?: number;
  /** ...and at most this many bytes of them. Default 16 MiB. */
  replayBytes?: number;
  /**
   * The linked session store the served agent was given (`claudeCode({ sessionStore })`): each run a client
   * starts with its own session store (ExecuteCommand.session_store, on a Connect stream) saves and loads its
   * sessions there. Runs of other clients, and Execute calls, are not linked.
   */
  sessionStore?: LinkedSessionStore;
  /** How long a session call waits for the client's reply (each part of a load, again). Default 30 s. */
  sessionCallTimeoutMs?: number;
}

export interface DrainOptions {
  /** True: let live runs finish within `graceMs`, then cancel the rest. False: cancel them now. */
  graceful?: boolean;
  graceMs?: number;
}

export interface DrainResult {
  /** Runs that ended on their own during the grace period. */
  finished: number;
  /** Runs that were cancelled because the grace period ran out (or there was none). */
  cancelled: number;
}
