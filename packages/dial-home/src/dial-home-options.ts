import type { BackoffOptions, Clock, CodeAgent, ForgeError, Logger, WorkspaceAttach } from '@forge/core';
import type { AgentLogSource } from './agent-log-server.js';
import type { DetachedRunLimits } from './carried-run.js';
import type { LinkedSessionStore } from '@forge/transport-grpc';

export type DialHomeStatus = 'connecting' | 'online' | 'reconnecting' | 'stopped';

export interface DialHomeOptions {
  /** The platform, e.g. `https://forge.example.com:4100`. */
  url: string;
  /** Used once, when there is no credential file yet (or the stored credential is refused). */
  enrolmentToken?: string;
  /** Where the credential is kept (created 0600). Reused on every later start. */
  credentialFile: string;
  /** The name to announce: the provider name on the platform. */
  name: string;
  /** The agent to serve. dialHome never closes it. */
  agent: CodeAgent;
  /**
   * The agent program's own log for the platform's operators (`GET /agents/:id/logs` there): its provider's
   * stderr, its logger's recent lines. Read with a bounded tail (at most 5,000), lines cut at 8 KiB, and ended
   * through `signal`. Without it the platform reads an empty log.
   */
  logs?: AgentLogSource;
  /**
   * The linked session store the agent was given (`claudeCode({ sessionStore })`): runs the platform starts with
   * its own session store save and load their sessions there, over the Attach stream, so they outlive this
   * machine's files.
   */
  sessionStore?: LinkedSessionStore;
  /** How long a session call waits for the platform's reply (each part of a load, again). Default 30 s. */
  sessionCallTimeoutMs?: number;
  /**
   * Where the platform's terminals open (its attach endpoint): e.g. core's `localWorkspaceAttach({ workspace })`.
   * Without it attach is off: the Hello says so and every terminal the platform asks for is refused (ATTACH_DISABLED).
   */
  attach?: WorkspaceAttach;
  /** Heartbeat interval until the platform's Welcome says otherwise. Default 30 s. */
  heartbeatMs?: number;
  /** Reconnection: exponential backoff with full jitter. Default 0.5 s doubling up to 30 s, no attempt limit. */
  backoff?: BackoffOptions;
  /** Announced in the Hello. Default: @forge/dial-home's version. */
  version?: string;
  /** For an https:// url: the CA to trust, a client certificate… */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; servername?: string };
  /** An Enroll call, or an Attach until the Welcome, not answered by then is given up (and retried). Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Runs a stopping platform instance detaches (a rolling restart) go on here without a link, announced to the
   * next instance reached, which attaches them. Bounds: 10,000 events / 32 MiB buffered (past them the run is not
   * read: backpressure, never a gap), 120 s without an attach (then the run is cancelled).
   */
  detachedRuns?: Partial<DetachedRunLimits>;
  /** On stop(), how long live runs get to report their cancellation. Default 5 s. */
  stopGraceMs?: number;
  onStatus?: (status: DialHomeStatus, detail: { agentId?: string; error?: ForgeError }) => void;
  clock?: Clock;
  logger?: Logger;
}

export interface DialHome {
  readonly status: DialHomeStatus;
  /** Known once enrolled (or read from the credential file). */
  readonly agentId: string | undefined;
  /** Why the last attempt failed, or why dialling stopped. */
  readonly lastError: ForgeError | undefined;
  /** Resolves once dialling has ended: stop(), a refusal (revoked, bad token), or backoff.maxAttempts. */
  readonly done: Promise<void>;
  /** Resolves when online; rejects with `lastError` if dialling ends first. */
  whenOnline(): Promise<void>;
  /** Cancels live runs (reporting their ends to the platform), disconnects, stops dialling. Idempotent. */
  stop(): Promise<void>;
}
