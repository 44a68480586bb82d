import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from '@connectrpc/connect-node';
import { silentLogger, type CodeAgent } from '@forge/core';
import { createAgentServiceRoutes, type AgentServiceOptions, type AgentServiceRoutes, type DrainOptions, type DrainResult } from './routes.js';

export interface ServeAgentOptions extends AgentServiceOptions {
  /** Default 8080; 0 picks a free port (read it back from `port`). */
  port?: number;
  /** Default 127.0.0.1. A pod serving its cluster wants 0.0.0.0. */
  host?: string;
  /** Connect interceptors (authentication, logging…) run for every call. */
  interceptors?: Interceptor[];
  /** More options for the Connect adapter (e.g. readMaxBytes, compression). */
  adapter?: Omit<ConnectNodeAdapterOptions, 'routes' | 'interceptors'>;
  /** Options for node:http2's createServer. */
  http2?: http2.ServerOptions;
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
 * Serves a CodeAgent over HTTP/2 cleartext (h2c): gRPC, gRPC-Web and Connect on one port, with
 * the standard gRPC health service.
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
  const handler = connectNodeAdapter({ ...options.adapter, routes, ...(options.interceptors ? { interceptors: options.interceptors } : {}) });
  const server = http2.createServer({ ...options.http2 }, handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // A peer that vanishes must not take the process down with an unhandled 'error'.
    session.on('error', (error) => logger.debug('http2 session error', { error: String(error) }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error('agent server error', { error: String(error) }));
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

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
      server.close();
      for (const s of sessions) s.close();
      const cut = setTimeout(() => {
        for (const s of sessions) s.destroy();
      }, disconnectGraceMs);
      cut.unref();
      await closed;
      clearTimeout(cut);
      return result;
    })();
    return closing;
  };

  return { url: `http://${urlHost}:${port}`, port, host, routes, close, closed };
}
