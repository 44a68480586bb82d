import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Where a fake server listens; every fake API's options take these. */
export interface LoopbackAddress {
  /** Default 127.0.0.1: fake servers for tests never listen beyond this machine. */
  host?: string | undefined;
  /** Default 0 (any free port). */
  port?: number | undefined;
}

export interface LoopbackServerOptions extends LoopbackAddress {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Answers a request whose handler threw before it wrote anything. */
  onError(res: ServerResponse, error: unknown): void;
}

export interface LoopbackServer {
  /** `http://host:port`, brackets around an IPv6 host. */
  readonly origin: string;
  /** Aborted by `close()`: handlers that hang on purpose end on it. */
  readonly closing: AbortSignal;
  /** Waits `ms` for a response; false when the client went away or the server is closing. */
  sleep(ms: number, res: ServerResponse): Promise<boolean>;
  /** Stops listening and cuts every open connection (a hanging stream included). */
  close(): Promise<void>;
}

/**
 * The part every fake model API shares (Anthropic, OpenAI Responses, Gemini): an HTTP server on loopback that
 * tracks its sockets so `close()` never waits on a stream a test left hanging.
 */
export async function startLoopbackServer(options: LoopbackServerOptions): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  const server = createServer((req, res) => {
    void options.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) options.onError(res, error);
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    origin: `http://${host}:${address.port}`,
    closing: closing.signal,
    sleep(ms, res) {
      return new Promise((resolve) => {
        if (res.destroyed || closing.signal.aborted) return resolve(false);
        const timer = setTimeout(() => {
          res.off('close', gone);
          resolve(!res.destroyed);
        }, ms);
        const gone = () => {
          clearTimeout(timer);
          resolve(false);
        };
        res.once('close', gone);
      });
    },
    async close() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** The whole body of a request, as text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
