import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { silentLogger, type AttachOptions, type Logger } from '@forge/core';
import { WebSocketServer } from 'ws';
import { ApiError, errorResponse } from '../api-error.js';
import type { AuditLog, RateWindows } from '@forge/store';
import { bearerToken } from '../api-keys.js';
import { actorOf, auditRecorder } from '../audit-trail.js';
import type { Authenticator } from '../key-authenticator.js';
import { AGENT_ID, type AgentBackend } from '../backends/backend.js';
import { requestLimiter, type RequestLimiter } from '../shared-rate-limiter.js';
import { requestTarget } from '../http/request-target.js';
import { AttachSession } from './attach-session.js';
import { AttachTickets, type AttachTicket } from './attach-tickets.js';
import { ATTACH_PROTOCOLS } from './channel-frames.js';
import { attachQuery } from './attach-query.js';
import type { AttachRelay, RelayedAttach } from './replica-relay.js';

export interface AttachServiceOptions {
  keys: Authenticator;
  backend: AgentBackend;
  logger?: Logger;
  /** Where `attach.opened` and `attach.ended` are recorded (who, agent, command, exit code). */
  audit?: AuditLog;
  /** Open attachments (live or in their grace period) per user. Default 4. */
  maxPerUser?: number;
  /** A dropped connection's process lives this long for the client to come back. Default 30 s. */
  graceMs?: number;
  /** No traffic either way for this long ends the process. Default 15 min. */
  idleMs?: number;
  /** Output kept for a client that re-attaches. Default 1 MiB. */
  replayBytes?: number;
  /** Bytes queued to a client before the process's output waits for it. Default 1 MiB. */
  highWaterMark?: number;
  ticketTtlMs?: number;
  /** Failed authentications per minute from one address. Default 30. */
  authFailuresPerMinute?: number;
  /** Where failed authentications count: the store's windows, with the API's (one budget per address). */
  rateWindows?: RateWindows;
  /** Attach to a remote agent whose link another replica holds, relayed there (see ReplicaRelay); read per upgrade. */
  relay?: () => AttachRelay | undefined;
}

const ATTACH_PATH = /^\/api\/v1\/agents\/([^/]+)\/attach\/?$/;

/**
 * Terminals into agents' workspaces: tickets, the WebSocket upgrade (checked — key or ticket,
 * ownership, caps — before anything is upgraded), and the sessions that outlive a dropped connection.
 * Every attach is logged as `attach opened` / `attach ended` (who, when, command, exit code), and recorded in the
 * audit log when there is one.
 */
export class AttachService {
  readonly #o: AttachServiceOptions;
  readonly #logger: Logger;
  readonly #tickets: AttachTickets;
  readonly #sessions = new Map<string, AttachSession>();
  readonly #opening = new Map<string, number>();
  readonly #wss = new WebSocketServer({
    noServer: true,
    maxPayload: 1024 * 1024,
    perMessageDeflate: false,
    handleProtocols: (offered) => ATTACH_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  readonly #authFailures: RequestLimiter;
  #closed = false;

  constructor(options: AttachServiceOptions) {
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
    this.#tickets = new AttachTickets(options.ticketTtlMs ?? 30_000);
    this.#authFailures = requestLimiter(options.rateWindows, 'auth-failure', options.authFailuresPerMinute ?? 30);
    // Which session the client is in, so it can come back to it after a dropped connection.
    this.#wss.on('headers', (headers, req) => {
      const id = (req as IncomingMessage & { attachSession?: string }).attachSession;
      if (id) headers.push(`x-forge-attach-session: ${id}`);
    });
  }

  /** A ticket for `agentId` (already checked to be the user's). */
  issueTicket(userId: string, agentId: string, keyId?: string): AttachTicket {
    const ticket = this.#tickets.issue(userId, agentId, newSessionId(), keyId);
    if (!ticket) throw new ApiError(429, 'TOO_MANY_TICKETS', 'Too many unused attach tickets; use or let them expire');
    return ticket;
  }

  /** Sessions a user has open (live or in their grace period). */
  openCount(userId: string): number {
    let n = this.#opening.get(userId) ?? 0;
    for (const s of this.#sessions.values()) if (s.userId === userId) n++;
    return n;
  }

  /** node:http's `upgrade` listener. Anything not an attach is refused. */
  upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    this.#upgrade(req, socket, head).catch((error: unknown) => {
      const response = errorResponse(error);
      if (response.internal) this.#logger.error('attach failed', { error: String((error as Error)?.stack ?? error) });
      refuse(socket, response.status, response.body, response.headers);
    });
  };

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.#closed) throw new ApiError(503, 'SHUTTING_DOWN', 'The platform is shutting down');
    const { pathname, url } = requestTarget(req.url ?? '/');
    const m = ATTACH_PATH.exec(pathname);
    if (!m || req.method !== 'GET') throw new ApiError(404, 'NOT_FOUND', `No WebSocket at ${pathname}`);
    const agentId = decodeURIComponent(m[1]!);
    const query = attachQuery(url.searchParams);
    let remote = req.socket.remoteAddress ?? 'unknown';
    let userId: string | undefined;
    let keyId: string | undefined;
    let ticket: AttachTicket | undefined;
    // Relayed by the replica that took the client's socket and authenticated it (signed, single use).
    const relay = this.#o.relay?.();
    const relayed = relay?.accept(req, agentId);
    if (relayed) {
      userId = relayed.userId;
      keyId = relayed.keyId;
      remote = relayed.remote;
    } else if (query.ticket !== undefined) {
      ticket = this.#tickets.redeem(query.ticket, agentId);
      userId = ticket?.userId;
      keyId = ticket?.keyId;
    } else {
      const principal = await this.#o.keys.authenticate(bearerToken(req.headers.authorization));
      userId = principal?.userId;
      keyId = principal && actorOf(principal).keyId;
    }
    if (!userId) {
      const guard = await this.#authFailures.take(remote);
      if (!guard.allowed)
        throw new ApiError(
          429,
          'TOO_MANY_AUTH_FAILURES',
          `Too many failed authentications; retry in ${guard.retryAfter} s`,
          {
            'retry-after': String(guard.retryAfter),
          },
        );
      this.#logger.warn('attach authentication failed', { reason: query.ticket ? 'invalid ticket' : 'no key', remote });
      throw query.ticket !== undefined
        ? new ApiError(401, 'INVALID_TICKET', 'The ticket is unknown, used or expired; ask for a new one')
        : new ApiError(401, 'UNAUTHENTICATED', 'Send `Authorization: Bearer <api key>` or `?ticket=`', {
            'www-authenticate': 'Bearer realm="forge"',
          });
    }
    // Ownership before anything else: another user's agent is a 404, as over REST.
    const agent = AGENT_ID.test(agentId) ? await this.#o.backend.get(userId, agentId) : undefined;
    if (!agent) throw new ApiError(404, 'AGENT_NOT_FOUND', `No agent ${agentId}`);
    if (!this.#o.backend.attach)
      throw new ApiError(501, 'ATTACH_UNSUPPORTED', `The ${this.#o.backend.kind} backend cannot attach`);
    if (!agent.ready) throw new ApiError(409, 'AGENT_NOT_READY', `Agent ${agentId} is not ready`);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!ATTACH_PROTOCOLS.some((p) => offered.includes(p)))
      throw new ApiError(
        400,
        'UNSUPPORTED_PROTOCOL',
        `Offer the WebSocket subprotocol ${ATTACH_PROTOCOLS.join(' or ')}`,
      );

    const sessionId = relayed?.session ?? query.session ?? ticket?.session ?? newSessionId();
    const key = `${userId}\n${sessionId}`;
    const existing = this.#sessions.get(key);
    if (existing) {
      if (existing.attached) throw new ApiError(409, 'SESSION_ATTACHED', 'Another connection is attached to it');
      this.#logger.info('attach resumed', { userId, agentId, session: sessionId, at: new Date().toISOString() });
      return this.#handOver(
        req,
        socket,
        head,
        sessionId,
        (ws) => existing.attach(ws),
        () => {},
      );
    }
    // A remote agent whose link another replica holds: the session lives there (a relayed upgrade never goes on).
    const elsewhere = !relayed && (await relay?.elsewhere(agent));
    if (elsewhere) {
      const who: RelayedAttach = { userId, agentId, session: sessionId, remote, ...(keyId ? { keyId } : {}) };
      this.#logger.info('attach relayed', { userId, agentId, session: sessionId, to: elsewhere.split('#')[0] });
      return relay!.forward(req, socket, head, elsewhere, who);
    }
    const max = this.#o.maxPerUser ?? 4;
    if (this.openCount(userId) >= max)
      throw new ApiError(429, 'ATTACH_LIMIT', `At most ${max} open attachments per user; close one first`, {
        'retry-after': '30',
      });
    const uid = userId;
    this.#opening.set(uid, (this.#opening.get(uid) ?? 0) + 1);
    let proc: Awaited<ReturnType<NonNullable<AgentBackend['attach']>>>;
    const options: AttachOptions = {
      tty: query.tty,
      ...(query.command ? { command: query.command } : {}),
      ...(query.cols !== undefined ? { cols: query.cols } : {}),
      ...(query.rows !== undefined ? { rows: query.rows } : {}),
    };
    try {
      proc = await this.#o.backend.attach(agent, options);
    } finally {
      const left = (this.#opening.get(uid) ?? 1) - 1;
      if (left) this.#opening.set(uid, left);
      else this.#opening.delete(uid);
    }
    const opened = new Date().toISOString();
    const audit = { userId, agentId, session: sessionId, command: query.command ?? ['<login shell>'], tty: proc.tty };
    this.#logger.info('attach opened', { ...audit, at: opened, remote, notes: proc.notes });
    const record = auditRecorder(this.#o.audit, { userId, keyId: keyId ?? 'bootstrap' }, this.#logger);
    const auditDetails = { session: sessionId, command: audit.command, tty: proc.tty };
    void record('attach.opened', agentId, auditDetails);
    const session = new AttachSession({
      id: sessionId,
      userId,
      agentId,
      process: proc,
      graceMs: this.#o.graceMs ?? 30_000,
      idleMs: this.#o.idleMs ?? 15 * 60_000,
      replayBytes: this.#o.replayBytes ?? 1024 * 1024,
      highWaterMark: this.#o.highWaterMark ?? 1024 * 1024,
      onEnd: ({ exit, reason }) => {
        this.#sessions.delete(key);
        this.#logger.info('attach ended', {
          ...audit,
          opened,
          at: new Date().toISOString(),
          reason,
          exitCode: exit?.code ?? null,
          signal: exit?.signal ?? null,
        });
        void record('attach.ended', agentId, {
          ...auditDetails,
          reason,
          exit_code: exit?.code ?? null,
          signal: exit?.signal ?? null,
        });
      },
    });
    this.#sessions.set(key, session);
    this.#handOver(
      req,
      socket,
      head,
      sessionId,
      (ws) => session.attach(ws),
      () => session.stop('closed'),
    );
  }

  #handOver(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    sessionId: string,
    onOpen: (ws: import('ws').WebSocket) => void,
    onFail: () => void,
  ): void {
    let upgraded = false;
    // A handshake ws refuses (a bad key, a wrong version) never calls back: the socket's close says so.
    socket.once('close', () => {
      if (!upgraded) onFail();
    });
    (req as IncomingMessage & { attachSession?: string }).attachSession = sessionId;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      upgraded = true;
      onOpen(ws);
    });
  }

  /** Ends every session's process and connection. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const s of [...this.#sessions.values()]) s.stop('closed');
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

const newSessionId = () => randomBytes(18).toString('base64url');

function refuse(socket: Duplex, status: number, body: unknown, headers: Record<string, string>): void {
  if (!socket.writable) return void socket.destroy();
  const text = JSON.stringify(body);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(text)}\r\n` +
      'cache-control: no-store\r\n' +
      extra +
      'connection: close\r\n\r\n' +
      text,
  );
}
