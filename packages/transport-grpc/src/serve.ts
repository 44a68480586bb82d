import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from '@connectrpc/connect-node';
import { silentLogger, type CodeAgent } from '@forge/core';
import { refuseWithoutToken, requireBearerToken } from './auth.js';
import { closeGracefully } from './close-gracefully.js';
import { listen } from './listen.js';
import type { AgentServiceOptions, DrainOptions, DrainResult } from './agent-service-options.js';
import { createAgentServiceRoutes, type AgentServiceRoutes } from './routes.js';

/** serveAgent's default read limit: far above any command, far below what a server can buffer many of. */
export const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;

export interface ServeAgentOptions extends AgentServiceOptions {
  /** Default 8080; 0 picks a free port (read it back from `port`). */
  port?: number;
  /** Default 127.0.0.1. A pod serving its cluster wants 0.0.0.0. */
  host?: string;
  /** Connect interceptors (authentication, logging…) run for every call. */
  interceptors?: Interceptor[];
  /** Require `authorization: Bearer <token>` on AgentService calls (health stays open). */
  authToken?: string | ((presented: string) => boolean);
  /**
   * Largest message the server reads, in bytes. A message announcing more is refused from its
   * header (RESOURCE_EXHAUSTED) before it is read, authenticated or not. Default 4 MiB.
   */
  readMaxBytes?: number;
  /** More options for the Connect adapter (e.g. compression). */
  adapter?: Omit<ConnectNodeAdapterOptions, 'routes' | 'interceptors'>;
  /** Options for node:http2's createServer. */
  http2?: http2.ServerOptions;
  /**
   * Serve TLS (https://): HTTP/2 and HTTP/1.1 negotiated by ALPN. Without it the server speaks
   * cleartext, for a cluster network or behind a TLS-terminating ingress or mesh.
   */
  tls?: Pick<http2.SecureServerOptions, 'key' | 'cert' | 'ca' | 'pfx' | 'passphrase' | 'requestCert'>;
  /**
   * Also take HTTP/1.1 on the same port (Connect and gRPC-Web unary and server-streaming calls,
   * e.g. curl or a browser behind a plain proxy). Default true. gRPC and the bidi `Connect`
   * call need HTTP/2, which a client picks with prior knowledge (h2c).
   */
  http1?: boolean;
  /** How long `close` waits for clients to take their last messages before cutting connections. Default 5 s. */
  disconnectGraceMs?: number;
}

export interface AgentServer {
  /** e.g. `http://127.0.0.1:8080` — pass it to `grpcAgent({ baseUrl })`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly routes: AgentServiceRoutes;
  /**
   * Stops: refuses new runs, drains live ones (graceful, default: within `graceMs`, then cancels
   * them; otherwise cancels at once), lets clients read their runs' last events, then closes
   * every connection. Idempotent. The agent itself is not closed: it is the caller's.
   */
  close(options?: DrainOptions): Promise<DrainResult>;
  /** Resolves when the server has closed, whoever closed it (a Shutdown call included). */
  readonly closed: Promise<void>;
}

/**
 * Serves a CodeAgent over HTTP/2 cleartext (h2c) — or TLS with `tls` — : gRPC, gRPC-Web and
 * Connect on one port, with the standard gRPC health service; HTTP/1.1 on the same port too,
 * unless turned off.
 */
export async function serveAgent(agent: CodeAgent, options: ServeAgentOptions = {}): Promise<AgentServer> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const disconnectGraceMs = options.disconnectGraceMs ?? 5_000;
  let close: AgentServer['close'] = undefined as never;
  const routes = createAgentServiceRoutes(agent, {
    ...options,
    onShutdown: (req) => {
      void close({ graceful: req.graceful, graceMs: req.graceMs });
      options.onShutdown?.(req);
    },
  });
  const interceptors = [
    ...(options.authToken ? [requireBearerToken(options.authToken)] : []),
    ...(options.interceptors ?? []),
  ];
  const connectHandler = connectNodeAdapter({
    ...options.adapter,
    readMaxBytes: options.readMaxBytes ?? options.adapter?.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
    routes,
    interceptors,
  });
  // Unary calls without the token are refused from their headers, before their bodies are read.
  const handler = options.authToken ? refuseWithoutToken(options.authToken, connectHandler) : connectHandler;
  const h2 = http2.createServer({ ...options.http2 }, handler);
  const h1 = http.createServer(handler);
  // h1 never listens itself, so its own idle-connection tracking is off: keep count here.
  const h1Busy = new Map<net.Socket, number>();
  let stopping = false;
  const endIdleHttp1 = (socket: net.Socket) => {
    if (stopping && !h1Busy.get(socket)) socket.destroy();
  };
  h1.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    h1Busy.set(socket, (h1Busy.get(socket) ?? 0) + 1);
    if (stopping) res.setHeader('connection', 'close');
    res.once('close', () => {
      h1Busy.set(socket, (h1Busy.get(socket) ?? 1) - 1);
      endIdleHttp1(socket);
    });
  });
  h1.on('connection', (socket: net.Socket) => {
    h1Busy.set(socket, 0);
    socket.once('close', () => h1Busy.delete(socket));
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  const onSession = (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // A peer that vanishes must not take the process down with an unhandled 'error'.
    session.on('error', (error) => logger.debug('http2 session error', { error: String(error) }));
  };
  h2.on('session', onSession);
  const http1 = options.http1 ?? true;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', (error) => logger.debug('connection error', { error: String(error) }));
  };
  let server: net.Server;
  if (options.tls) {
    // ALPN picks h2 or http/1.1; the secure server hands HTTP/1.1 requests to the same handler.
    const secure = http2.createSecureServer({ ...options.http2, ...options.tls, allowHTTP1: http1 }, handler);
    secure.on('session', onSession);
    secure.on('secureConnection', track);
    server = secure;
  } else {
    // One port for both: an HTTP/2 client with prior knowledge opens with the "PRI * HTTP/2.0"
    // preface, anything else is HTTP/1.1.
    server = net.createServer((socket) => {
      track(socket);
      if (!http1) return void h2.emit('connection', socket);
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const preface = head.subarray(0, 3).toString('latin1');
        // Wait for three bytes unless what came already rules HTTP/2 out.
        if (head.length < 3 && 'PRI'.startsWith(preface)) return;
        socket.off('data', onData);
        socket.pause();
        socket.unshift(head);
        (preface === 'PRI' ? h2 : h1).emit('connection', socket);
        process.nextTick(() => socket.resume());
      };
      socket.on('data', onData);
    });
  }

  const { port, urlHost } = await listen(server, options.port ?? 8080, host, logger, 'agent server');

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  server.once('close', () => resolveClosed());

  let closing: Promise<DrainResult> | undefined;
  close = (opts: DrainOptions = {}) => {
    closing ??= (async () => {
      const result = await routes.drain(opts);
      // Streams end once their runs have; give clients a moment to read the last events.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([routes.streamsIdle(), new Promise<void>((r) => (timer = setTimeout(r, disconnectGraceMs)))]);
      clearTimeout(timer);
      await closeGracefully(
        closed,
        disconnectGraceMs,
        () => {
          server.close();
          stopping = true;
          for (const socket of h1Busy.keys()) endIdleHttp1(socket);
          for (const s of sessions) s.close();
        },
        () => {
          for (const s of sessions) s.destroy();
          for (const s of sockets) s.destroy();
        },
      );
      return result;
    })();
    return closing;
  };

  return { url: `${options.tls ? 'https' : 'http'}://${urlHost}:${port}`, port, host, routes, close, closed };
}
