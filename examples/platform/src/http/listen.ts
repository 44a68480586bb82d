import { STATUS_CODES, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';

export interface HttpServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** What Node's HTTP parser refuses, in the API's `{ error: { code, message } }` shape instead of an empty body. */
const CLIENT_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    message: 'The request headers are too large',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'REQUEST_TIMEOUT',
    message: 'The request did not arrive in time',
  },
  ERR_HTTP_HEADERS_TIMEOUT: {
    status: 408,
    code: 'REQUEST_TIMEOUT',
    message: 'The request headers did not arrive in time',
  },
};

function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // A reset peer, or a response already under way, can be answered no more (Node's own check, too).
  const written = (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
  if (error.code === 'ECONNRESET' || !socket.writable || written > 0) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[error.code ?? ''] ?? {
    status: 400,
    code: 'BAD_REQUEST',
    message: `The request is not valid HTTP${error.code ? ` (${error.code})` : ''}`,
  };
  const body = JSON.stringify({ error: { code: known.code, message: known.message } });
  socket.end(
    `HTTP/1.1 ${known.status} ${STATUS_CODES[known.status] ?? 'Error'}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'cache-control: no-store\r\n' +
      'connection: close\r\n\r\n' +
      body,
  );
}

/**
 * Connections the kernel holds for the server before it accepts them (capped by net.core.somaxconn). Node's
 * default, 511, overflows when a thousand SSE readers connect at once: the kernel drops the SYNs past it and
 * each of those clients waits for its SYN to be sent again (1 s, then 3 s).
 */
const BACKLOG = 4_096;

/** Listens on host:port (0 = a free port). `close` ends open streams (SSE) too, so it never hangs. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: { port: number; host: string; upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void },
): Promise<HttpServer> {
  const server = createServer(handler);
  if (options.upgrade) server.on('upgrade', options.upgrade);
  // Slow-loris protection: headers and bodies must arrive in bounded time.
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // SSE responses are long-lived; body reads are bounded by size instead.
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, backlog: BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host =
    options.host === '0.0.0.0'
      ? '127.0.0.1'
      : options.host === '::'
        ? '[::1]'
        : options.host.includes(':')
          ? `[${options.host}]`
          : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
