import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServerHttp2Stream } from 'node:http2';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { AgentService } from './gen/forge/agent/v1/agent_pb.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Compares SHA-256 digests, always 32 bytes: neither the content nor the length of the token leaks through timing. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Server side: AgentService calls must carry `authorization: Bearer <token>`. Health checks stay
 * open, so probes need no secret. `token` may be a function (e.g. to accept a rotating set).
 */
export function requireBearerToken(token: string | ((presented: string) => boolean)): Interceptor {
  const accepts = tokenCheck(token);
  return (next) => async (req) => {
    if (req.service.typeName === AgentService.typeName && !accepts(req.header.get('authorization'))) {
      throw new ConnectError(REFUSAL, Code.Unauthenticated);
    }
    return next(req);
  };
}

const REFUSAL = 'A valid bearer token is required';

function tokenCheck(token: string | ((presented: string) => boolean)): (header: string | null | undefined) => boolean {
  const accepts = typeof token === 'string' ? (t: string) => sameSecret(t, token) : token;
  return (header) => {
    const presented = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1];
    return presented !== undefined && accepts(presented);
  };
}

type NodeRequest = { url?: string | undefined; headers: Record<string, string | string[] | undefined> };
type NodeResponse = {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body?: string): unknown;
  /** Set on an HTTP/2 request (node:http2's compatibility API), absent on HTTP/1.1. */
  stream?: Pick<ServerHttp2Stream, 'respond' | 'headersSent' | 'destroyed'>;
};

/**
 * Wraps a Node request handler so that an AgentService call without the token is answered before
 * its body is read. Connect checks streaming calls before reading them, but reads a unary request
 * whole (up to readMaxBytes) before the interceptor runs; this answers those from the headers.
 * gRPC and gRPC-Web get a trailers-only UNAUTHENTICATED (16), Connect unary a 401 with its JSON error;
 * Connect streaming calls go on to the interceptor, which refuses them before reading.
 */
export function refuseWithoutToken<H extends (req: never, res: never) => void>(
  token: string | ((presented: string) => boolean),
  nodeHandler: H,
): H {
  const accepts = tokenCheck(token);
  const prefix = `/${AgentService.typeName}/`;
  const handler = nodeHandler as unknown as (req: NodeRequest, res: NodeResponse) => void;
  const guarded = (req: NodeRequest, res: NodeResponse) => {
    const header = req.headers.authorization;
    if (!req.url?.startsWith(prefix) || accepts(Array.isArray(header) ? header[0] : header)) return handler(req, res);
    const type = String(req.headers['content-type'] ?? '');
    if (type.startsWith('application/grpc')) {
      const web = type.startsWith('application/grpc-web');
      return trailersOnly(res, {
        'content-type': web ? 'application/grpc-web+proto' : 'application/grpc',
        'grpc-status': String(Code.Unauthenticated),
        'grpc-message': encodeURIComponent(REFUSAL),
      });
    }
    if (type.startsWith('application/connect+')) return handler(req, res);
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'unauthenticated', message: REFUSAL }));
  };
  return guarded as unknown as H;
}

/**
 * A gRPC trailers-only response: the status in the one HEADERS frame, which also ends the stream.
 * Node's compatibility API cannot send that (it always waits for trailers, then ends with an empty
 * DATA frame), and a stock client such as grpc-js reads a status only from a frame that ends the
 * stream: without END_STREAM on it, the call fails INTERNAL ("Call ended without gRPC status").
 * gRPC-Web's trailers-only form is the same status in the response headers with an empty body,
 * which over HTTP/1.1 is a `content-length: 0` response.
 */
function trailersOnly(res: NodeResponse, headers: Record<string, string>): void {
  const stream = res.stream;
  if (stream) {
    if (!stream.headersSent && !stream.destroyed) stream.respond({ ':status': 200, ...headers }, { endStream: true });
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': '0' });
  res.end();
}

/** Client side: sends `authorization: Bearer <token>` (or what `token()` returns) on every call. */
export function bearerToken(token: string | (() => string | Promise<string>)): Interceptor {
  return (next) => async (req) => {
    req.header.set('authorization', `Bearer ${typeof token === 'string' ? token : await token()}`);
    return next(req);
  };
}
