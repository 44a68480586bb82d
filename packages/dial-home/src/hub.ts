import type { ConnectRouter, HandlerContext, Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from '@connectrpc/connect-node';
import {
  ForgeError,
  ValidationError,
  silentLogger,
  systemClock,
  type Clock,
  type CodeAgent,
  type Logger,
  type ProviderRegistry,
} from '@forge/core';
import { capabilitiesFromProto } from '@forge/transport-grpc/internal';
import { AgentRecords } from './agent-records.js';
import { AgentSession, type SessionEnd } from './agent-session.js';
import type { AgentInfo } from './agent-info.js';
import { Code, ConnectError, refusal, refuse } from './connect-errors.js';
import { hashCredential, newAgentId, newCredential } from './credential.js';
import type { AgentRecord, CredentialStore } from './credential-store.js';
import { DialledAgent } from './dialled-agent.js';
import { checkSecret, issueEnrolmentToken, verifyEnrolmentToken, type HubSecret } from './enrolment-token.js';
import { DialHomeCodes } from './errors.js';
import type { AttachResponse, EnrollRequest, Hello } from './gen/forge/dialhome/v1/dialhome_pb.js';
import type { AttachRequest as WireAttachRequest } from './gen/forge/dialhome/wire/v1/wire_pb.js';
import { listenHub, type HubServer, type ListenOptions } from './hub-server.js';
import { subjects } from './subject.js';
import { Subscriptions, type HubMessageHandler } from './subscriptions.js';
import { WireAgentHubService, fromWire, type Incoming } from './wire.js';

export interface AgentHubOptions {
  /** Signs enrolment tokens (HMAC-SHA256); at least 32 bytes. Keep it secret and stable across restarts. */
  secret: HubSecret;
  /** Enrolled agents (credential hashes) and spent tokens. */
  credentialStore: CredentialStore;
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

/** A Node request handler: fits `http2.createServer`, `http2.createSecureServer` and `http.createServer`. */
export type NodeHandlerFn = NonNullable<ConnectNodeAdapterOptions['fallback']>;

export interface HubHandlerOptions {
  /** Called for requests that are not the hub's. Default: 404. */
  fallback?: NodeHandlerFn;
  interceptors?: Interceptor[];
}

export interface IssueTokenOptions {
  /** Default: the hub's enrolmentTtlMs (1 h). */
  ttlMs?: number;
  /** Bind the token to this agent name. */
  name?: string;
}

/** The platform side of dial-home. */
export interface AgentHub {
  /** Mount on a Connect router (`connectNodeAdapter({ routes: hub.routes })`) to serve it beside other services. */
  readonly routes: (router: ConnectRouter) => void;
  /**
   * A Node request handler serving the hub's routes, to mount on the host's own HTTP/2 server
   * (Attach is a bidirectional stream: it needs HTTP/2). Requests for other paths go to
   * `fallback` (e.g. the host's dashboard), or get a 404.
   */
  handler(options?: HubHandlerOptions): NodeHandlerFn;
  /** Serves the hub alone on an HTTP/2 port (cleartext, or TLS with `tls`). */
  listen(options?: ListenOptions): Promise<HubServer>;
  issueEnrolmentToken(options?: IssueTokenOptions): EnrolmentToken;
  /**
   * Withdraws an enrolment token before it is used (it counts as spent from now on). Takes the
   * token string or what `issueEnrolmentToken` returned. False when it was spent already,
   * has expired, or is not this hub's.
   */
  revokeEnrolmentToken(token: string | EnrolmentToken): Promise<boolean>;
  /** Revokes an agent's credential and drops its session now. False when no such agent. */
  revoke(agentId: string): Promise<boolean>;
  /** Every enrolled, unrevoked agent, online or not. */
  listAgents(): Promise<AgentInfo[]>;
  /** Follows what the hub routes: `agent.*.online`, `agent.<id>.run.>`, `>`… Returns the unsubscribe function. */
  subscribe(pattern: string, handler: HubMessageHandler): () => void;
  /** The platform-side CodeAgent of an agent (by id or by name), online or not. */
  agent(idOrName: string): CodeAgent | undefined;
  /** Drops every session (their runs fail TRANSPORT_BROKEN; agents will dial again), stops any server from `listen`. */
  close(): Promise<void>;
}

interface Entry {
  dialled: DialledAgent;
  session?: AgentSession;
  provider?: string;
  version?: string;
  capabilities?: ReturnType<typeof capabilitiesFromProto>;
  lastSeen?: number;
  registered: boolean;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

/**
 * The platform end of "agents that dial home": enrolment, authenticated Attach sessions,
 * heartbeats and online status, subject routing, and a CodeAgent per connected agent.
 */
export function createAgentHub(options: AgentHubOptions): AgentHub {
  const secret = checkSecret(options.secret);
  const store = options.credentialStore;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const missed = options.missedHeartbeats ?? 3;
  const ttlMs = options.enrolmentTtlMs ?? 3_600_000;
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const maxBufferedEvents = options.maxBufferedEvents ?? 100_000;
  if (!(heartbeatMs > 0) || !(missed >= 1)) {
    throw new ValidationError('INVALID_HEARTBEAT', 'heartbeatMs must be positive and missedHeartbeats at least 1', [
      { path: 'heartbeatMs', code: 'INVALID_HEARTBEAT', message: `${heartbeatMs} / ${missed}` },
    ]);
  }
  const records = new AgentRecords(store, logger);
  const subscriptions = new Subscriptions(logger);
  const entries = new Map<string, Entry>();
  const servers = new Set<HubServer>();
  let enrolling: Promise<unknown> = Promise.resolve();
  let closed = false;

  const entryFor = (record: Pick<AgentRecord, 'agentId' | 'name'>): Entry => {
    let entry = entries.get(record.agentId);
    if (!entry) {
      entry = {
        dialled: new DialledAgent({
          agentId: record.agentId,
          name: record.name,
          clock,
          stopGraceMs,
          maxBufferedEvents,
        }),
        registered: false,
      };
      entries.set(record.agentId, entry);
    }
    return entry;
  };

  const infoOf = (record: AgentRecord, entry: Entry | undefined): AgentInfo => {
    const info: AgentInfo = {
      id: record.agentId,
      name: entry?.dialled.name ?? record.name,
      status: entry?.session ? 'online' : 'offline',
      runsInFlight: entry?.dialled.runsInFlight ?? 0,
      enrolledAt: record.enrolledAt,
      registered: entry?.registered ?? false,
    };
    const provider = entry?.provider ?? record.provider;
    const version = entry?.version ?? record.version;
    const lastSeen = entry?.session ? entry.session.lastSeen : (entry?.lastSeen ?? record.lastSeen);
    if (provider !== undefined) info.provider = provider;
    if (version !== undefined) info.version = version;
    if (lastSeen !== undefined) info.lastSeen = lastSeen;
    if (entry?.capabilities) info.capabilities = entry.capabilities;
    return info;
  };

  async function enroll(req: EnrollRequest) {
    if (closed) throw new ConnectError('The platform is shutting down', Code.Unavailable);
    const now = clock.now();
    try {
      const payload = verifyEnrolmentToken(secret, req.enrolmentToken, now);
      const name = payload.name ?? req.name;
      if (payload.name !== undefined && req.name && req.name !== payload.name) {
        throw new ValidationError(
          DialHomeCodes.NAME_MISMATCH,
          `This enrolment token is for agent "${payload.name}", not "${req.name}"`,
        );
      }
      if (!NAME.test(name)) {
        throw new ValidationError('INVALID_AGENT_NAME', `"${name}" is not a valid agent name`, [
          { path: 'name', code: 'INVALID_AGENT_NAME', message: 'letters, digits, ".", "_" and "-", at most 63' },
        ]);
      }
      // One enrolment at a time in this hub, so two tokens cannot both claim a free name.
      const enrolled = enrolling.then(async () => {
        // A name is held by its enrolled agent until revoked: a second agent may not take it over.
        const holder = (await store.list()).find((r) => r.name === name && r.revokedAt === undefined);
        if (holder) {
          throw refuse(Code.AlreadyExists, DialHomeCodes.NAME_TAKEN, `Agent "${name}" is enrolled already`, {
            name,
          });
        }
        if (!(await store.consumeToken(payload.jti, payload.exp, now))) {
          throw new ForgeError(DialHomeCodes.TOKEN_USED, 'The enrolment token was already used', 'validation', {
            details: { tokenId: payload.jti },
          });
        }
        const agentId = newAgentId();
        const credential = newCredential(agentId);
        await store.put({ agentId, name, credentialHash: hashCredential(credential), enrolledAt: now });
        return { agentId, credential };
      });
      enrolling = enrolled.catch(() => {});
      const { agentId, credential } = await enrolled;
      logger.info('agent enrolled', { agentId, name, tokenId: payload.jti });
      return { agentId, credential };
    } catch (error) {
      if (error instanceof ValidationError) throw refusal(Code.InvalidArgument, error);
      if (error instanceof ForgeError) throw refusal(Code.Unauthenticated, error);
      throw error;
    }
  }

  // Synchronous, like the registry itself: nothing can register or unregister between the checks
  // in open() and these changes, so a quick reconnect needs no ordering of its own.
  function register(entry: Entry): void {
    if (!options.registry || entry.registered || !entry.session) return;
    options.registry.register(entry.dialled.name, entry.dialled);
    entry.registered = true;
  }

  function unregister(entry: Entry): void {
    if (!options.registry || !entry.registered) return;
    entry.registered = false;
    // Only if the name still holds this agent: the host may have replaced it meanwhile.
    options.registry.unregister(entry.dialled.name, entry.dialled);
  }

  /** A Hello arrived: checks the name, replaces an older session of the same agent, goes online. */
  async function open(record: AgentRecord, session: AgentSession, hello: Hello): Promise<Entry> {
    const name = hello.name;
    if (name !== record.name) {
      // The credential speaks for the name it was enrolled under, nothing else: announcing another
      // would rename this agent, or take over another agent's registry entry and its runs.
      throw refuse(
        Code.PermissionDenied,
        DialHomeCodes.IDENTITY_MISMATCH,
        `This credential belongs to agent "${record.name}", not "${name}"`,
        { agentId: record.agentId, name },
      );
    }
    for (const other of entries.values()) {
      if (other.session && other.dialled.agentId !== record.agentId && other.dialled.name === name) {
        throw refuse(
          Code.AlreadyExists,
          DialHomeCodes.NAME_TAKEN,
          `Another online agent (${other.dialled.agentId}) is named "${name}"`,
          { name },
        );
      }
    }
    const entry = entryFor(record);
    const registry = options.registry;
    if (registry?.has(name) && !(entry.registered && entry.dialled.name === name)) {
      throw refuse(
        Code.AlreadyExists,
        DialHomeCodes.NAME_TAKEN,
        `The platform already has a provider named "${name}"`,
        { name },
      );
    }
    if (entry.session) {
      // The same credential connected again while the old session looks alive: the new one wins
      // and the agent stays online (the old session's end does not take it offline). If the old
      // connection was still in use, another process holds this credential; it is told so.
      const old = entry.session;
      entry.session = undefined;
      entry.dialled.detach(old);
      old.end({
        reason: 'replaced',
        message: 'the agent connected again',
        error: refuse(
          Code.Aborted,
          DialHomeCodes.REPLACED,
          'A newer connection with this agent credential took over the session',
          { agentId: record.agentId },
        ),
      });
    }
    if (entry.registered && entry.dialled.name !== name) unregister(entry);
    const capabilities = capabilitiesFromProto(hello.capabilities);
    entry.session = session;
    entry.provider = hello.provider;
    entry.version = hello.version;
    entry.capabilities = capabilities;
    entry.dialled.attach(session, { name, provider: hello.provider || 'dial-home', capabilities });
    session.onEnd((end) => void close(entry, session, end));
    register(entry);
    void records.update(record.agentId, (r) => ({
      ...r,
      provider: hello.provider,
      version: hello.version,
      lastSeen: clock.now(),
    }));
    logger.info('agent online', { agentId: record.agentId, name, provider: hello.provider, version: hello.version });
    subscriptions.publish({
      subject: subjects.online(record.agentId),
      type: 'online',
      agentId: record.agentId,
      time: clock.now(),
      agent: infoOf(record, entry),
    });
    return entry;
  }

  async function close(entry: Entry, session: AgentSession, end: SessionEnd): Promise<void> {
    if (entry.session !== session) return;
    entry.session = undefined;
    entry.lastSeen = session.lastSeen;
    entry.dialled.detach(session);
    unregister(entry);
    const agentId = entry.dialled.agentId;
    logger.info('agent offline', { agentId, name: entry.dialled.name, reason: end.reason, message: end.message });
    const record = await records.update(agentId, (r) => ({ ...r, lastSeen: session.lastSeen }));
    const info = record
      ? infoOf(record, entry)
      : infoOf({ agentId, name: entry.dialled.name, credentialHash: '', enrolledAt: 0 }, entry);
    subscriptions.publish({
      subject: end.reason === 'revoked' ? subjects.revoked(agentId) : subjects.offline(agentId),
      type: end.reason === 'revoked' ? 'revoked' : 'offline',
      agentId,
      time: clock.now(),
      agent: info,
      reason: end.message,
    });
  }

  const decode = (message: WireAttachRequest): Incoming => {
    try {
      return fromWire(message);
    } catch (error) {
      throw refuse(
        Code.InvalidArgument,
        DialHomeCodes.PROTOCOL,
        `Protocol error: an unreadable ${message.body.case ?? 'message'} (${(error as Error).message})`,
      );
    }
  };

  async function* attach(
    requests: AsyncIterable<WireAttachRequest>,
    ctx: HandlerContext,
  ): AsyncGenerator<AttachResponse> {
    if (closed) throw new ConnectError('The platform is shutting down', Code.Unavailable);
    const record = await records.authenticate(ctx.requestHeader.get('authorization'));
    const agentId = record.agentId;
    const input = requests[Symbol.asyncIterator]();
    // The first message must be a Hello, and soon.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const first = await Promise.race([
      input.next(),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), heartbeatMs * missed))),
    ]).finally(() => clearTimeout(timer));
    if (first === 'timeout') throw new ConnectError('No Hello within the heartbeat window', Code.DeadlineExceeded);
    if (first.done) return;
    const opening = decode(first.value);
    if (opening.body.case !== 'hello') {
      throw refuse(
        Code.FailedPrecondition,
        DialHomeCodes.PROTOCOL,
        'The first message of an Attach stream must be a Hello',
      );
    }
    const hello = opening.body.value;
    const session = new AgentSession({ agentId, name: hello.name, clock, logger, subscriptions, callTimeoutMs });
    await open(record, session, hello);
    session.send(subjects.welcome(agentId), {
      case: 'welcome',
      value: {
        $typeName: 'forge.dialhome.v1.Welcome',
        agentId,
        heartbeatMs,
        missedHeartbeats: missed,
        serverTime: clock.now(),
      },
    });

    const onAbort = () => session.end({ reason: 'broken', message: 'the stream to the agent broke' });
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    void (async () => {
      try {
        for (;;) {
          const next = await input.next();
          if (next.done) break;
          if (session.ended) return;
          await records.authorize(agentId, record.credentialHash);
          const complaint = session.handle(decode(next.value));
          if (complaint) throw refuse(Code.InvalidArgument, DialHomeCodes.PROTOCOL, `Protocol error: ${complaint}`);
        }
        session.end({ reason: 'disconnected', message: 'the agent disconnected' });
      } catch (error) {
        const ce = error instanceof ConnectError ? error : undefined;
        const revoked = ce?.code === Code.PermissionDenied || ce?.code === Code.Unauthenticated;
        const protocol = ce?.code === Code.InvalidArgument;
        session.end({
          reason: revoked ? 'revoked' : protocol ? 'protocol' : 'broken',
          message: ce ? ce.rawMessage : `the stream to the agent broke: ${String(error)}`,
          ...(revoked || protocol ? { error: ce } : {}),
        });
      }
    })();

    try {
      for await (const message of session.outbound) yield message;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      session.end({ reason: 'broken', message: 'the stream to the agent ended' });
    }
    const end = session.ended;
    if (end?.error) throw end.error;
  }

  const sweeper = setInterval(
    () => {
      const now = clock.now();
      for (const entry of entries.values()) {
        const s = entry.session;
        if (s && now - s.lastSeen > heartbeatMs * missed) {
          logger.warn('agent missed its heartbeats', {
            agentId: entry.dialled.agentId,
            lastSeen: s.lastSeen,
            heartbeatMs,
            missed,
          });
          s.end({
            reason: 'heartbeat',
            message: `no message for ${now - s.lastSeen} ms (${missed} heartbeats of ${heartbeatMs} ms missed)`,
            error: refuse(
              Code.DeadlineExceeded,
              DialHomeCodes.HEARTBEAT_LOST,
              'Heartbeats missed; the platform takes this agent for offline',
            ),
          });
        }
      }
    },
    Math.max(1, Math.min(heartbeatMs, 1_000)),
  );
  sweeper.unref?.();

  // Limits set on the routes themselves, so they hold however the host mounts them.
  const readMaxBytes = options.readMaxBytes ?? DEFAULT_HUB_READ_MAX_BYTES;
  const enrollMaxBytes = options.enrollMaxBytes ?? DEFAULT_ENROLL_MAX_BYTES;
  const routes = (router: ConnectRouter) => {
    router.rpc(WireAgentHubService.method.enroll, enroll, { readMaxBytes: enrollMaxBytes });
    router.rpc(WireAgentHubService.method.attach, attach, { readMaxBytes });
  };

  return {
    routes,
    handler(handlerOptions = {}) {
      return connectNodeAdapter({
        routes,
        ...(handlerOptions.fallback ? { fallback: handlerOptions.fallback } : {}),
        ...(handlerOptions.interceptors ? { interceptors: handlerOptions.interceptors } : {}),
      });
    },
    async listen(listenOptions = {}) {
      const server = await listenHub(routes, { ...listenOptions, logger });
      servers.add(server);
      void server.closed.then(() => servers.delete(server));
      return server;
    },
    issueEnrolmentToken(issue = {}) {
      const now = clock.now();
      const expiresAt = now + (issue.ttlMs ?? ttlMs);
      const token = issueEnrolmentToken(secret, {
        iat: now,
        exp: expiresAt,
        ...(issue.name !== undefined ? { name: issue.name } : {}),
      });
      const id = verifyEnrolmentToken(secret, token, now).jti;
      return { token, id, expiresAt, ...(issue.name !== undefined ? { name: issue.name } : {}) };
    },
    async revokeEnrolmentToken(token) {
      const now = clock.now();
      let payload: ReturnType<typeof verifyEnrolmentToken>;
      try {
        payload = verifyEnrolmentToken(secret, typeof token === 'string' ? token : token.token, now);
      } catch {
        return false;
      }
      const withdrawn = await store.consumeToken(payload.jti, payload.exp, now);
      if (withdrawn) logger.info('enrolment token withdrawn', { tokenId: payload.jti });
      return withdrawn;
    },
    async revoke(agentId) {
      const record = await records.update(
        agentId,
        (r) => (r.revokedAt === undefined ? { ...r, revokedAt: clock.now() } : r),
        true,
      );
      if (!record) return false;
      entries.get(agentId)?.session?.end({
        reason: 'revoked',
        message: 'the credential was revoked',
        error: refuse(
          Code.PermissionDenied,
          DialHomeCodes.CREDENTIAL_REVOKED,
          `The credential of agent ${agentId} was revoked`,
          { agentId },
        ),
      });
      logger.info('agent revoked', { agentId });
      return true;
    },
    async listAgents() {
      const records = await store.list();
      return records
        .filter((r) => r.revokedAt === undefined)
        .map((r) => infoOf(r, entries.get(r.agentId)))
        .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    },
    subscribe: (pattern, handler) => subscriptions.subscribe(pattern, handler),
    agent(idOrName) {
      const byId = entries.get(idOrName);
      if (byId) return byId.dialled;
      const named = [...entries.values()].filter((e) => e.dialled.name === idOrName);
      return (named.find((e) => e.session) ?? named[0])?.dialled;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      for (const entry of entries.values()) {
        entry.session?.end({
          reason: 'hub_closing',
          message: 'the platform is shutting down',
          error: new ConnectError('The platform is shutting down', Code.Unavailable),
        });
      }
      await Promise.all([...servers].map((s) => s.close()));
      for (const entry of entries.values()) unregister(entry);
      // The sessions' last-seen writes land before close resolves, not after the host moved on.
      await records.flush();
    },
  };
}
