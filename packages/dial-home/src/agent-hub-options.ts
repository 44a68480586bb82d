import type { Clock, Logger, ProviderRegistry, SessionStore } from '@forge/core';
import type { AgentPresence } from './agent-presence.js';
import type { CredentialStore } from './credential-store.js';
import type { HubSecret } from './enrolment-token.js';

export interface AgentHubOptions {
  /** Signs enrolment tokens (HMAC-SHA256); at least 32 bytes. Keep it secret and stable across restarts. */
  secret: HubSecret;
  /** Enrolled agents (credential hashes) and spent tokens. */
  credentialStore: CredentialStore;
  /**
   * Where the hub records the sessions it holds (online since, last seen, which hub), so hubs that
   * share it list the same status and end a session held here when it is revoked or taken over
   * elsewhere. Default: `memoryAgentPresence()`, this hub only.
   */
  presence?: AgentPresence;
  /**
   * How often the held sessions' last-seen times are written to `presence` and their revocation
   * or takeover elsewhere is checked. Default: the heartbeat interval, at most 2 s.
   */
  presenceSyncMs?: number;
  /**
   * How often an agent's credential is checked against `credentialStore` while its session is open:
   * at its first message once this long has passed since the last check (so a revocation written to the
   * store by another process stops the stream within this bound, or at the agent's next heartbeat when it
   * is silent), not at every message — with a database-backed store that was one query per event or
   * terminal chunk. `hub.revoke` on this hub ends the session at once whatever this is, and hubs sharing a
   * `presence` store end it at their next sync too. `0` checks every message. Default: the heartbeat
   * interval, at most 1 s.
   */
  credentialCheckMs?: number;
  /** How often agents send heartbeats. Default 30 s. */
  heartbeatMs?: number;
  /** Heartbeats missed in a row after which an agent is offline. Default 3. */
  missedHeartbeats?: number;
  /** Each online agent is registered here under its name, and unregistered when it goes offline. */
  registry?: ProviderRegistry;
  /** Default lifetime of enrolment tokens. Default 1 h. */
  enrolmentTtlMs?: number;
  /** After a cancel, how long a run waits for the agent's run.completed before ending here. Default 10 s. */
  stopGraceMs?: number;
  /** How long a permission reply waits for the agent's acknowledgement. Default 10 s. */
  callTimeoutMs?: number;
  /** Unread events of one run at which it fails rather than buffer more. Default 100,000. */
  maxBufferedEvents?: number;
  /**
   * Largest message an agent may send on its Attach stream, in bytes (read only after its
   * credential was checked). A message announcing more is refused from its header, and the
   * session ends. Default 32 MiB: room for one event carrying a 16 MiB CLI line twice.
   */
  readMaxBytes?: number;
  /** Largest Enroll request, read before any authentication. Default 64 KiB. */
  enrollMaxBytes?: number;
  /**
   * Keep the agents' sessions here: an agent program given a linked session store (`dialHome({ sessionStore })`)
   * saves what each turn added and loads a session its machine lacks over its Attach stream; each run reaches
   * only its own sessions. Runs on an agent program older than that (protocol revision < 2) are refused
   * (SESSION_STORE_UNSUPPORTED) rather than have their sessions left behind.
   */
  sessionStore?: SessionStore;
  clock?: Clock;
  logger?: Logger;
}

export const DEFAULT_HUB_READ_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_ENROLL_MAX_BYTES = 64 * 1024;

export interface EnrolmentToken {
  /** Hand this to the agent (FORGE_ENROLMENT_TOKEN). */
  token: string;
  /** The token's id (single use is tracked by it). */
  id: string;
  /** Epoch ms. */
  expiresAt: number;
  name?: string;
}

export interface IssueTokenOptions {
  /** Default: the hub's enrolmentTtlMs (1 h). */
  ttlMs?: number;
  /** Bind the token to this agent name. */
  name?: string;
}
