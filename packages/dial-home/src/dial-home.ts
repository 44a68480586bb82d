import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';
import {
  type BackoffOptions,
  ForgeError,
  TransportError,
  ValidationError,
  silentLogger,
  systemClock,
  type Clock,
  type CodeAgent,
  type Logger,
} from '@forge/core';
import { Backoff, delay, AsyncQueue } from '@forge/core/internal';
import { capabilitiesToProto, toForgeError } from '@forge/transport-grpc/internal';
import { AgentLink } from './agent-link.js';
import { readCredentialFile, writeCredentialFile, type StoredCredential } from './credential-file.js';
import { DialHomeCodes } from './errors.js';
import { HeartbeatSchema, HelloSchema } from './gen/forge/dialhome/v1/dialhome_pb.js';
import { subjects } from './subject.js';
import { DIAL_HOME_VERSION } from './version.js';
import { WireAgentHubService, wireStream, type Outgoing } from './wire.js';

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

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

/** Refusals that dialling again cannot fix. */
const FATAL = new Set<Code>([
  Code.Unauthenticated,
  Code.PermissionDenied,
  Code.InvalidArgument,
  Code.FailedPrecondition,
  Code.Unimplemented,
]);

const asForge = (error: unknown, url: string): ForgeError => toForgeError(error, `the platform at ${url}`);

/** Dialling ends for good. */
class Fatal extends Error {
  constructor(readonly error: ForgeError) {
    super(error.message);
  }
}

/**
 * The agent side: connects out to the platform (enrolling first if needed), serves `agent` over
 * that connection, keeps it alive with heartbeats and dials again after any drop.
 */
export function dialHome(options: DialHomeOptions): DialHome {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const stopGraceMs = options.stopGraceMs ?? 5_000;
  const backoff = new Backoff(options.backoff);
  let url: URL;
  try {
    url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ValidationError('INVALID_URL', `url must be an http:// or https:// URL, got "${options.url}"`, [
      { path: 'url', code: 'INVALID_URL', message: 'not an http(s) URL' },
    ]);
  }
  if (!NAME.test(options.name)) {
    throw new ValidationError('INVALID_AGENT_NAME', `"${options.name}" is not a valid agent name`, [
      { path: 'name', code: 'INVALID_AGENT_NAME', message: 'letters, digits, ".", "_" and "-", at most 63' },
    ]);
  }

  let status: DialHomeStatus = 'connecting';
  let agentId: string | undefined;
  let lastError: ForgeError | undefined;
  let stopping = false;
  let tokenTried = false;
  let everOnline = false;
  const stopController = new AbortController();
  /** Set while a stream is open: how to end it gracefully. */
  let graceful: (() => Promise<void>) | undefined;
  const onlineWaiters = new Set<{ resolve(): void; reject(e: unknown): void }>();

  const setStatus = (next: DialHomeStatus, error?: ForgeError) => {
    if (error) lastError = error;
    if (next === status && !error) return;
    status = next;
    if (next === 'online') {
      everOnline = true;
      for (const w of onlineWaiters) w.resolve();
    }
    if (next === 'online' || next === 'stopped') onlineWaiters.clear();
    try {
      options.onStatus?.(next, { ...(agentId ? { agentId } : {}), ...(error ? { error } : {}) });
    } catch (e) {
      logger.warn('onStatus threw', { error: String(e) });
    }
  };

  const newTransport = () => {
    const sessions = new Http2SessionManager(url, {}, options.tls ? { ...options.tls } : undefined);
    const transport = createGrpcTransport({ baseUrl: options.url, useBinaryFormat: true, sessionManager: sessions });
    return { client: createClient(WireAgentHubService, transport), sessions };
  };

  async function enroll(client: Client<WireAgentHubService>): Promise<StoredCredential> {
    logger.info('enrolling with the platform', { url: options.url, name: options.name });
    const res = await client.enroll(
      { enrolmentToken: options.enrolmentToken!, name: options.name },
      { timeoutMs: connectTimeoutMs, signal: stopController.signal },
    );
    // Spent now; a failure before this point (platform unreachable) leaves it for the next attempt.
    tokenTried = true;
    const stored: StoredCredential = {
      version: 1,
      agentId: res.agentId,
      credential: res.credential,
      url: options.url,
      name: options.name,
      enrolledAt: clock.now(),
    };
    await writeCredentialFile(options.credentialFile, stored);
    logger.info('enrolled; credential stored', { agentId: res.agentId, file: options.credentialFile });
    return stored;
  }

  /** One Attach stream, from Hello to its end. Resolves or throws when it ends. */
  async function attach(client: Client<WireAgentHubService>, stored: StoredCredential): Promise<void> {
    const outbound = new AsyncQueue<Outgoing>({ highWaterMark: 256 });
    const link = new AgentLink(options.agent, stored.agentId, outbound, logger);
    const controller = new AbortController();
    const abort = (reason: Error) => controller.abort(reason);
    const onStop = () => abort(new Error('stopped'));
    stopController.signal.addEventListener('abort', onStop, { once: true });
    let heartbeatMs = options.heartbeatMs ?? 30_000;
    let missed = 3;
    let lastInbound = clock.now();
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    const connectTimer = setTimeout(
      () =>
        abort(new TransportError('DEADLINE_EXCEEDED', `No Welcome from the platform within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    let welcomed = false;
    let resolveClosed!: () => void;
    const closedStream = new Promise<void>((r) => (resolveClosed = r));
    try {
      const capabilities = await options.agent.capabilities();
      outbound.push({
        subject: subjects.hello(stored.agentId),
        body: {
          case: 'hello',
          value: create(HelloSchema, {
            name: options.name,
            provider: options.agent.provider,
            capabilities: capabilitiesToProto(capabilities),
            version: options.version ?? DIAL_HOME_VERSION,
          }),
        },
      });
      graceful = async () => {
        await link.cancelAll('the agent is stopping');
        let t: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([link.settled(), new Promise<void>((r) => (t = setTimeout(r, stopGraceMs)))]);
        clearTimeout(t);
        // Half-close: the platform sees a clean goodbye and marks the agent offline at once.
        outbound.end();
        t = setTimeout(() => abort(new Error('stopped')), stopGraceMs);
        await closedStream.catch(() => {});
        clearTimeout(t);
      };
      try {
        const responses = client.attach(wireStream(outbound), {
          signal: controller.signal,
          headers: { authorization: `Bearer ${stored.credential}` },
        });
        for await (const message of responses) {
          lastInbound = clock.now();
          const body = message.body;
          if (body.case === 'welcome') {
            welcomed = true;
            clearTimeout(connectTimer);
            heartbeatMs = body.value.heartbeatMs || heartbeatMs;
            missed = body.value.missedHeartbeats || missed;
            agentId = body.value.agentId || stored.agentId;
            backoff.reset();
            lastError = undefined;
            heartbeat = setInterval(() => {
              if (clock.now() - lastInbound > heartbeatMs * missed) {
                abort(
                  new TransportError(
                    'AGENT_HEARTBEAT_LOST',
                    `No answer from the platform for ${heartbeatMs * missed} ms`,
                  ),
                );
                return;
              }
              outbound.push({
                subject: subjects.heartbeat(stored.agentId),
                body: {
                  case: 'heartbeat',
                  value: create(HeartbeatSchema, { time: clock.now(), runsInFlight: link.runsInFlight }),
                },
              });
            }, heartbeatMs);
            heartbeat.unref?.();
            logger.info('online', { agentId, heartbeatMs });
            setStatus('online');
          } else if (body.case === 'command') {
            link.handle(body.value);
          }
        }
      } finally {
        resolveClosed();
      }
      if (!stopping) throw new TransportError('TRANSPORT_BROKEN', 'The platform ended the session');
    } catch (error) {
      const reason = controller.signal.reason;
      if (stopping) return;
      if (controller.signal.aborted && reason instanceof ForgeError) throw reason;
      throw error;
    } finally {
      graceful = undefined;
      clearTimeout(connectTimer);
      clearInterval(heartbeat);
      stopController.signal.removeEventListener('abort', onStop);
      void link.drop('the link to the platform dropped');
      outbound.close();
      if (!controller.signal.aborted) controller.abort(new Error('the stream ended'));
      if (welcomed) logger.info('link to the platform closed', { agentId });
    }
  }

  /** A failed attempt: rethrows as Fatal when dialling again cannot help. */
  function classify(error: unknown, phase: 'enroll' | 'attach'): ForgeError {
    if (error instanceof Fatal) throw error;
    const e = asForge(error, options.url);
    if (error instanceof ConnectError && FATAL.has(error.code)) {
      if (
        phase === 'attach' &&
        (error.code === Code.Unauthenticated || error.code === Code.PermissionDenied) &&
        options.enrolmentToken &&
        !tokenTried
      ) {
        // The stored credential is refused, but a token was given: enrol again with it.
        logger.warn('the stored credential was refused; enrolling with the enrolment token', { error: e.code });
        forceEnrol = true;
        credentialRefusal = e;
        return e;
      }
      if (phase === 'enroll' && credentialRefusal) {
        // The real news is the refused credential (revoked, most often); the token was a fallback.
        const r = credentialRefusal;
        throw new Fatal(
          new ForgeError(
            r.code,
            `${r.message}; enrolling again with the enrolment token failed too: ${e.message}`,
            r.category,
            {
              retryable: false,
              cause: e,
              ...(r.details ? { details: r.details } : {}),
            },
          ),
        );
      }
      throw new Fatal(e);
    }
    if (e.code === DialHomeCodes.CREDENTIAL_FILE || e.code === DialHomeCodes.REPLACED) throw new Fatal(e);
    // Enrolling under a name another agent holds: trying again will not free it.
    if (phase === 'enroll' && e.code === DialHomeCodes.NAME_TAKEN) throw new Fatal(e);
    return e;
  }

  let forceEnrol = false;
  /** Why the stored credential was given up for the enrolment token. */
  let credentialRefusal: ForgeError | undefined;

  const done = (async () => {
    while (!stopping) {
      const { client, sessions } = newTransport();
      let phase: 'enroll' | 'attach' = 'attach';
      try {
        let stored = forceEnrol ? undefined : await readCredentialFile(options.credentialFile, logger);
        if (!stored) {
          if (!options.enrolmentToken || tokenTried) {
            throw new Fatal(
              new ForgeError(
                DialHomeCodes.NOT_ENROLLED,
                `No credential in ${options.credentialFile} and no (unused) enrolment token`,
                'validation',
              ),
            );
          }
          phase = 'enroll';
          stored = await enroll(client);
          forceEnrol = false;
        }
        agentId = stored.agentId;
        phase = 'attach';
        await attach(client, stored);
      } catch (error) {
        if (stopping) break;
        let e: ForgeError;
        try {
          e = classify(error, phase);
        } catch (fatal) {
          const f = (fatal as Fatal).error ?? asForge(fatal, options.url);
          logger.error('dialling home stopped', { code: f.code, message: f.message });
          lastError = f;
          for (const w of onlineWaiters) w.reject(f);
          setStatus('stopped', f);
          break;
        }
        lastError = e;
        logger.warn('link to the platform failed', { code: e.code, message: e.message, attempt: backoff.attempts + 1 });
      } finally {
        sessions.abort();
      }
      if (stopping) break;
      if (backoff.exhausted) {
        const e = new TransportError(
          'RECONNECT_GAVE_UP',
          `Gave up after ${backoff.attempts} attempts: ${lastError?.message ?? 'unknown error'}`,
          {
            retryable: false,
            ...(lastError ? { cause: lastError } : {}),
          },
        );
        lastError = e;
        for (const w of onlineWaiters) w.reject(e);
        setStatus('stopped', e);
        break;
      }
      const wait = backoff.next();
      setStatus(everOnline ? 'reconnecting' : 'connecting', lastError);
      await delay(wait, stopController.signal);
    }
    if ((status as DialHomeStatus) !== 'stopped') setStatus('stopped');
  })();

  return {
    get status() {
      return status;
    },
    get agentId() {
      return agentId;
    },
    get lastError() {
      return lastError;
    },
    done,
    whenOnline() {
      if (status === 'online') return Promise.resolve();
      if (status === 'stopped')
        return Promise.reject(lastError ?? new ForgeError('STOPPED', 'dialHome was stopped', 'internal'));
      return new Promise((resolve, reject) => onlineWaiters.add({ resolve, reject }));
    },
    async stop() {
      if (!stopping) {
        stopping = true;
        const g = graceful;
        if (g) await g().catch(() => {});
        stopController.abort();
      }
      await done;
    },
  };
}
