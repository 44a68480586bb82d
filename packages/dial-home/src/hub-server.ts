import * as http2 from 'node:http2';
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { silentLogger, type Logger } from '@forge/core';
import { closeGracefully, listen } from '@forge/transport-grpc/internal';

export interface ListenOptions {
  /** Default 0 (a free port; read it back from `port`). */
  port?: number;
  /** Default 127.0.0.1. Agents on other machines need 0.0.0.0 (and TLS, or a TLS-terminating proxy). */
  host?: string;
  /** Serve TLS (https://). Agents dialling over the internet should only ever see this. */
  tls?: Pick<http2.SecureServerOptions, 'key' | 'cert' | 'ca' | 'pfx' | 'passphrase'>;
  interceptors?: Interceptor[];
  /** How long `close` lets connections finish before cutting them. Default 2 s. */
  disconnectGraceMs?: number;
  /**
   * HTTP/2 PING every this often on each connection; one unanswered by the next is destroyed.
   * Reaps connections of agents that vanished without a word (a laptop put to sleep), which TCP
   * alone would keep for many minutes. Default 30 s; 0 turns it off.
   */
  pingIntervalMs?: number;
}

export interface HubServer {
  /** e.g. `http://127.0.0.1:4100` — what agents dial (`dialHome({ url })`). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  readonly closed: Promise<void>;
}

/** What one Attach stream (one agent) may have in flight to the hub, unread. */
const HUB_STREAM_WINDOW = 4 * 1024 * 1024;
/** The same for a connection (HTTP/2 session). */
const HUB_SESSION_WINDOW = 8 * 1024 * 1024;

/** An HTTP/2 server (gRPC, gRPC-Web and Connect) for the hub's routes. */
export async function listenHub(
  routes: (router: ConnectRouter) => void,
  options: ListenOptions & { logger?: Logger } = {},
): Promise<HubServer> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const graceMs = options.disconnectGraceMs ?? 2_000;
  const pingMs = options.pingIntervalMs ?? 30_000;
  const handler = connectNodeAdapter({
    routes,
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
  });
  // HTTP/2's default 64 KiB receive window would let one agent send 64 KiB per round trip: a
  // terminal's output (or a run's events) would crawl at window/RTT. Bounded per stream and session.
  const settings = { initialWindowSize: HUB_STREAM_WINDOW };
  const server = options.tls
    ? http2.createSecureServer({ ...options.tls, settings }, handler)
    : http2.createServer({ settings }, handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.setLocalWindowSize(HUB_SESSION_WINDOW);
    session.once('close', () => sessions.delete(session));
    // An agent that vanishes must not take the platform down with an unhandled 'error'.
    session.on('error', (error) => logger.debug('http2 session error', { error: String(error) }));
    if (pingMs > 0) {
      let waiting = false;
      const timer = setInterval(() => {
        if (waiting) {
          logger.debug('http2 connection did not answer a ping; dropping it');
          session.destroy();
          return;
        }
        waiting = session.ping((error) => {
          if (!error) waiting = false;
        });
      }, pingMs);
      timer.unref();
      session.once('close', () => clearInterval(timer));
    }
  });
  const { port, urlHost } = await listen(server, options.port ?? 0, host, logger, 'hub server');
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  let closing: Promise<void> | undefined;
  return {
    url: `${options.tls ? 'https' : 'http'}://${urlHost}:${port}`,
    port,
    closed,
    close() {
      closing ??= closeGracefully(
        closed,
        graceMs,
        () => {
          server.close();
          for (const s of sessions) s.close();
        },
        () => {
          for (const s of sessions) s.destroy();
        },
      );
      return closing;
    },
  };
}
