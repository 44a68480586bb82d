import { ConnectError, createClient, type Interceptor, type Transport } from '@connectrpc/connect';
import {
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';
import {
  ValidationError,
  randomId,
  silentLogger,
  systemClock,
  validateRequest,
  withPolicyDefaults,
  refuseUnsupportedFields,
  relayDeclaration,
  type AgentCapabilities,
  type AgentEvent,
  type AgentPolicyOptions,
  type AgentRequestInput,
  type AgentRun,
  type Clock,
  type CodeAgent,
  type ExecuteOptions,
  type IdGenerator,
  type Logger,
  NotFoundError,
  type SessionStore,
  RunExistsError,
  UnsupportedError,
} from '@forge/core';
import { bearerToken } from './auth.js';
import { ConnectLink } from './connect-link.js';
import { capabilitiesFromProto, requestToProto } from './convert-request.js';
import { TransportCodes, forgeErrorFromConnect } from './errors.js';
import { ExecuteLink } from './execute-link.js';
import { PeerRevision } from './peer-revision.js';
import { fieldsBeyondRevision } from './protocol-revision.js';
import { StartGate } from './start-gate.js';
import { WireAgentService } from './wire-service.js';
import { cancelLiveRun, RelayedRun, type RunLink } from '@forge/core/internal';
import { GuardedSessionManager } from './session-manager.js';
import type { DrainOptions, DrainResult } from './agent-service-options.js';
import { SessionGrants } from './session-grants.js';
import { attachedRunGrants, attachedRunStart, detachedRunEnd } from './attached-run.js';

/** `approvals`/`budget`/`questions` defaults are sent with each request (the remote agent enforces them). */
export interface GrpcAgentOptions extends Omit<AgentPolicyOptions, 'pricing'> {
  /** Where `serveAgent` listens, e.g. `http://agent-pod:8080`. */
  baseUrl: string;
  /** The name this agent reports, and the `provider` of its events. Default "grpc". */
  provider?: string;
  /** Wire protocol. Default "grpc" (HTTP/2); "connect" and "grpc-web" work over HTTP/2 or 1.1. */
  protocol?: 'grpc' | 'connect' | 'grpc-web';
  /** Default "2". Over "1.1" runs use one Execute call each (no bidi streams on HTTP/1.1). */
  httpVersion?: '2' | '1.1';
  /**
   * "bidi" (default on HTTP/2): every run over one `Connect` stream. "server": one `Execute`
   * call per run, with CancelRun/ReplyPermission/AnswerQuestion/SteerRun beside it.
   */
  streaming?: 'bidi' | 'server';
  /** Use this transport instead of building one (e.g. createRouterTransport in tests). */
  transport?: Transport;
  /** Connect interceptors, e.g. for tracing or custom headers. */
  interceptors?: Interceptor[];
  /** Sent as `authorization: Bearer <token>` (see serveAgent's `authToken`). */
  authToken?: string | (() => string | Promise<string>);
  /**
   * Compress responses (gzip) — worth it on a slow link only: events are small and compressing
   * every batch costs more CPU than the loopback or a cluster network saves. Default false.
   */
  compression?: boolean;
  /** For an https:// baseUrl: the CA (or self-signed certificate) to trust, and a client certificate if the server asks. */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; servername?: string };
  /** HTTP/2 keep-alive PING interval, so a dead peer is noticed on an idle link. Default 30 s. */
  pingIntervalMs?: number;
  /** A PING unanswered this long closes the connection. Default 10 s. */
  pingTimeoutMs?: number;
  /** How long a Connect stream with no run stays open for the next. Default 2 s. */
  idleStreamMs?: number;
  /**
   * A host that has not answered within this is checked: a Connect stream's opening ping, or for
   * Execute calls a GetStatus probe. No answer: runs fail AGENT_UNAVAILABLE. Default 10 s.
   */
  connectTimeoutMs?: number;
  /** After a cancel (or a run's timeoutMs), how long to wait for the agent's run.completed before ending the run here. Default 10 s. */
  stopGraceMs?: number;
  /** Deadline of unary calls (GetStatus, CancelRun, ReplyPermission, AnswerQuestion, SteerRun) and of permission replies, question answers and steers on a Connect stream. Default 10 s. */
  callTimeoutMs?: number;
  /** Unread events of one run above which reading the stream pauses (backpressure to the agent). Default 4,096. */
  highWaterMark?: number;
  /**
   * Keep the remote agent's sessions here: the server's agent (given serveAgent's linked session store) saves what
   * each turn added and loads a session it lacks (a replaced pod) through the run's stream. Each run reaches only
   * its own sessions. Needs bidi streaming and a server of protocol revision 2; runs on an older server are
   * refused (SESSION_STORE_UNSUPPORTED) rather than have their sessions left behind.
   */
  sessionStore?: SessionStore;
  idGenerator?: IdGenerator;
  clock?: Clock;
  logger?: Logger;
}

export interface RemoteAgentStatus {
  /** The served agent's own provider name, e.g. "claude-code". */
  provider: string;
  capabilities: AgentCapabilities;
  runsInFlight: number;
  uptimeMs: number;
  /** The server's @forge/transport-grpc version. */
  version: string;
  draining: boolean;
}

export interface GrpcAgent extends CodeAgent {
  readonly baseUrl: string;
  /** GetStatus. Throws a TransportError (retryable) when the agent cannot be reached. */
  status(): Promise<RemoteAgentStatus>;
  /** Asks the server to shut down (see AgentService.Shutdown). */
  shutdown(options?: DrainOptions): Promise<DrainResult>;
  /** Cancels live runs, waits for their ends (bounded by stopGraceMs), closes the connection. */
  close(): Promise<void>;
  /**
   * Hands a live run over (a host replica stopping): the agent keeps running it without this client, its
   * latest events buffered, until another client `attach`es within the server's `detachedRunTtlMs`. Resolves
   * once no further event of the run will come here; the run then ends on this side (cancelled, RUN_DETACHED) —
   * its run.completed there is not the run's. Bidi streaming only (UnsupportedError otherwise).
   */
  detach(runId: string): Promise<void>;
  /**
   * Takes over a run another client detached: its events after `afterSeq` (the last this host has), then live,
   * in seq order, ending with the agent's run.completed. A run the agent no longer has ends failed
   * (RUN_NOT_FOUND, EVENTS_LOST when events after `afterSeq` were no longer buffered).
   */
  attach(runId: string, options: AttachOptions): AgentRun;
}

export interface AttachOptions {
  /** The last event this host has of the run: the agent sends the ones after it. */
  afterSeq: number;
  /** Permission requests and questions up to `afterSeq` that still wait, so replies to them are taken. */
  pending?: readonly AgentEvent[];
  /**
   * The run's request (its `sessionId` and `fork`), for a client with a `sessionStore`: the agent's session calls
   * for the run are answered here from now on, reaching only the sessions that request grants.
   */
  request?: Pick<AgentRequestInput, 'sessionId' | 'fork'>;
  signal?: AbortSignal;
}

function checkBaseUrl(baseUrl: string): void {
  let url: URL | undefined;
  try {
    url = new URL(baseUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ValidationError('INVALID_BASE_URL', `baseUrl must be an http:// or https:// URL, got "${baseUrl}"`, [
      { path: 'baseUrl', code: 'INVALID_BASE_URL', message: 'not an http(s) URL' },
    ]);
  }
}

function buildTransport(o: GrpcAgentOptions): { transport: Transport; sessions?: GuardedSessionManager } {
  if (o.transport) return { transport: o.transport };
  checkBaseUrl(o.baseUrl);
  const httpVersion = o.httpVersion ?? '2';
  const protocol = o.protocol ?? (httpVersion === '2' ? 'grpc' : 'connect');
  if (protocol === 'grpc' && httpVersion !== '2') {
    throw new ValidationError(
      'INVALID_TRANSPORT',
      'gRPC needs HTTP/2; use protocol "connect" or "grpc-web" over HTTP/1.1',
      [{ path: 'httpVersion', code: 'INVALID_TRANSPORT', message: 'gRPC needs HTTP/2' }],
    );
  }
  const common = {
    baseUrl: o.baseUrl,
    useBinaryFormat: true,
    ...(o.compression
      ? { acceptCompression: [compressionGzip], sendCompression: compressionGzip }
      : { acceptCompression: [] }),
    interceptors: [...(o.authToken ? [bearerToken(o.authToken)] : []), ...(o.interceptors ?? [])],
  };
  if (httpVersion === '1.1') {
    const h1 = { ...common, httpVersion, ...(o.tls ? { nodeOptions: { ...o.tls } } : {}) };
    const transport = protocol === 'connect' ? createConnectTransport(h1) : createGrpcWebTransport(h1);
    return { transport };
  }
  // One HTTP/2 connection for every call of this agent, kept alive with PINGs.
  const sessions = new GuardedSessionManager(
    o.baseUrl,
    { pingIntervalMs: o.pingIntervalMs ?? 30_000, pingTimeoutMs: o.pingTimeoutMs ?? 10_000 },
    o.tls ? { ...o.tls } : undefined,
  );
  const h2 = { ...common, httpVersion: '2' as const, sessionManager: sessions };
  const transport =
    protocol === 'grpc'
      ? createGrpcTransport(h2)
      : protocol === 'connect'
        ? createConnectTransport(h2)
        : createGrpcWebTransport(h2);
  return { transport, sessions };
}

/**
 * A CodeAgent that runs on a remote `serveAgent` server: register it like any local one
 * (`registry.register('pod', grpcAgent({ baseUrl }))`).
 */
export function grpcAgent(options: GrpcAgentOptions): GrpcAgent {
  const provider = options.provider ?? 'grpc';
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const nextId = options.idGenerator ?? randomId;
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const target = `the agent at ${options.baseUrl}`;
  const { transport, sessions } = buildTransport(options);
  const client = createClient(WireAgentService, transport);
  const streaming =
    options.streaming ?? (options.transport || (options.httpVersion ?? '2') === '2' ? 'bidi' : 'server');
  if (options.sessionStore && streaming !== 'bidi')
    throw new ValidationError(
      'INVALID_TRANSPORT',
      'a sessionStore needs bidi streaming (HTTP/2): session calls travel on the Connect stream',
      [{ path: 'sessionStore', code: 'INVALID_TRANSPORT', message: 'needs streaming "bidi"' }],
    );
  const grants = options.sessionStore ? new SessionGrants(options.sessionStore, logger) : undefined;
  const link =
    streaming === 'bidi'
      ? new ConnectLink(client, {
          target,
          idleStreamMs: options.idleStreamMs ?? 2_000,
          connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
          callTimeoutMs,
          logger,
          ...(grants ? { sessions: grants } : {}),
        })
      : new ExecuteLink(client, {
          target,
          callTimeoutMs,
          deadlineSlackMs: stopGraceMs,
          connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
        });
  const live = new Map<string, RelayedRun>();
  const declared = relayDeclaration();
  const revision = new PeerRevision(
    async () => (await client.getStatus({}, { timeoutMs: callTimeoutMs })).capabilities?.protocolRevision ?? 0,
    clock,
  );
  let closed = false;

  // An older server answers a steer with "no known command"; say what it is instead (one GetStatus, kept).
  const withSteerCheck = (inner: RunLink): RunLink => ({
    cancel: (runId, reason) => inner.cancel(runId, reason),
    respond: (runId, id, decision, message) => inner.respond(runId, id, decision, message),
    answer: (runId, id, answers) => inner.answer!(runId, id, answers),
    async steer(runId, text) {
      if ((await revision.get()) === 0)
        throw new UnsupportedError(provider, "steering (the agent's server is older than it)");
      return inner.steer!(runId, text);
    },
  });

  // A new run (executed or re-attached) is kept in `live`, unless it ended at once or the client closed
  // meanwhile (then it ends failed, said so); false when it is not to be started.
  const admit = (runId: string, run: RelayedRun): boolean => {
    if (run.ended) return false;
    if (closed) {
      run.endLocally({
        status: 'failed',
        code: TransportCodes.CLIENT_CLOSED,
        message: 'This grpcAgent has been closed',
      });
      return false;
    }
    live.set(runId, run);
    return true;
  };

  const unary = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw error instanceof ConnectError ? forgeErrorFromConnect(error, target) : error;
    }
  };

  const agent: GrpcAgent = {
    provider,
    declared,
    baseUrl: options.baseUrl,
    async capabilities() {
      return (await agent.status()).capabilities;
    },
    async status() {
      const res = await unary(() => client.getStatus({}, { timeoutMs: callTimeoutMs }));
      return {
        provider: res.provider,
        capabilities: capabilitiesFromProto(res.capabilities),
        runsInFlight: res.runsInFlight,
        uptimeMs: res.uptimeMs,
        version: res.version,
        draining: res.draining,
      };
    },
    async shutdown(opts: DrainOptions = {}) {
      const res = await unary(() =>
        client.shutdown({
          graceful: opts.graceful ?? true,
          ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
        }),
      );
      return { finished: res.runsFinished, cancelled: res.runsCancelled };
    },
    execute(input: AgentRequestInput, execOptions: ExecuteOptions = {}): AgentRun {
      const request = validateRequest(withPolicyDefaults(input, options));
      refuseUnsupportedFields(provider, request, declared);
      const runId = execOptions.runId ?? nextId();
      if (live.has(runId)) {
        throw new RunExistsError(runId);
      }
      // Fields an older server would drop wait for its protocol revision (see start-gate.ts).
      const gate =
        fieldsBeyondRevision(request, 0).length > 0 || grants
          ? new StartGate(link, provider, grants !== undefined)
          : undefined;
      const run = new RelayedRun({
        runId,
        provider,
        clock,
        link: withSteerCheck(gate ?? link),
        ...(execOptions.signal ? { signal: execOptions.signal } : {}),
        ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
        stopGraceMs,
        highWaterMark: options.highWaterMark ?? 4_096,
        onEnd: (r) => {
          if (live.get(r.id) === r) live.delete(r.id);
          grants?.close(r.id);
          if (link instanceof ConnectLink) link.runEnded(r);
        },
      });
      if (!admit(runId, run)) return run;
      grants?.open(runId, request);
      if (gate) gate.start(run, request, requestToProto(request), revision.get());
      else link.start(run, requestToProto(request));
      return run;
    },
    async detach(runId: string) {
      if (!(link instanceof ConnectLink)) throw new UnsupportedError(provider, 'handing runs over on Execute calls');
      const run = live.get(runId);
      if (!run) throw new NotFoundError('RUN_NOT_FOUND', `No run ${runId} is live here`, { runId });
      await link.detach(runId);
      run.endLocally(detachedRunEnd('another client', 'the agent'));
    },
    attach(runId: string, attachOptions: AttachOptions): AgentRun {
      if (!(link instanceof ConnectLink)) throw new UnsupportedError(provider, 're-attaching to runs on Execute calls');
      if (live.has(runId)) throw new RunExistsError(runId);
      const run = new RelayedRun({
        runId,
        provider,
        clock,
        link: withSteerCheck(link),
        ...attachedRunStart(attachOptions),
        stopGraceMs,
        highWaterMark: options.highWaterMark ?? 4_096,
        onEnd: (r) => {
          if (live.get(r.id) === r) live.delete(r.id);
          grants?.close(r.id);
          link.runEnded(r);
        },
      });
      if (!admit(runId, run)) return run;
      grants?.open(runId, attachedRunGrants(attachOptions));
      link.attach(run, attachOptions.afterSeq);
      return run;
    },
    cancel: (runId: string) => cancelLiveRun(live, runId),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...live.values()].map((r) => r.cancel('the client is closing')));
      link.close();
      sessions?.abort();
    },
  };
  return agent;
}
