import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';
import { createClient } from '@connectrpc/connect';
import { silentLogger, systemClock, type Clock, type ForgeError, type Logger } from '@forge/core';
import type { Backoff } from '@forge/core/internal';
import type { DetachedRuns } from './agent-link.js';
import { DEFAULT_DETACHED_RUN_LIMITS } from './carried-run.js';
import type { DialHomeOptions, DialHomeStatus } from './dial-home-options.js';
import { WireAgentHubService } from './wire.js';

/**
 * What the parts of one dialHome share (the connect loop, enrolment, the Attach stream, the failure
 * classification): its settings and where the link stands. One per `dialHome` call.
 */
export class DialState {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly connectTimeoutMs: number;
  readonly stopGraceMs: number;
  status: DialHomeStatus = 'connecting';
  agentId: string | undefined;
  lastError: ForgeError | undefined;
  stopping = false;
  /** The enrolment token has been spent (or refused): it is not tried again. */
  tokenTried = false;
  everOnline = false;
  /** The stored credential was refused and a token is at hand: the next attempt enrols. */
  forceEnrol = false;
  /** Why the stored credential was given up for the enrolment token. */
  credentialRefusal: ForgeError | undefined;
  readonly stopController = new AbortController();
  /** Set while a stream is open: how to end it gracefully. */
  graceful: (() => Promise<void>) | undefined;
  readonly onlineWaiters = new Set<{ resolve(): void; reject(e: unknown): void }>();
  /** Runs the platform detached: they outlive the stream they started on, for the next one to attach. */
  readonly detached: DetachedRuns;

  constructor(
    readonly options: DialHomeOptions,
    readonly url: URL,
    readonly backoff: Backoff,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.stopGraceMs = options.stopGraceMs ?? 5_000;
    this.detached = { runs: new Map(), limits: { ...DEFAULT_DETACHED_RUN_LIMITS, ...options.detachedRuns } };
  }

  setStatus(next: DialHomeStatus, error?: ForgeError): void {
    if (error) this.lastError = error;
    if (next === this.status && !error) return;
    this.status = next;
    if (next === 'online') {
      this.everOnline = true;
      for (const w of this.onlineWaiters) w.resolve();
    }
    if (next === 'online' || next === 'stopped') this.onlineWaiters.clear();
    try {
      this.options.onStatus?.(next, {
        ...(this.agentId ? { agentId: this.agentId } : {}),
        ...(error ? { error } : {}),
      });
    } catch (e) {
      this.logger.warn('onStatus threw', { error: String(e) });
    }
  }

  /** A fresh HTTP/2 connection to the platform for one attempt (aborted when the attempt ends). */
  newTransport() {
    const sessions = new Http2SessionManager(this.url, {}, this.options.tls ? { ...this.options.tls } : undefined);
    const transport = createGrpcTransport({
      baseUrl: this.options.url,
      useBinaryFormat: true,
      sessionManager: sessions,
    });
    return { client: createClient(WireAgentHubService, transport), sessions };
  }
}
