import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../api-error.js';

export const MAX_BODY_BYTES = 1024 * 1024;
export const BODY_TIMEOUT_MS = 30_000;

/** The JSON body, or undefined when there is none; 400/413 on bad or oversize input, 408 when it trickles in too slowly. */
export async function readJson(
  req: IncomingMessage,
  limit = MAX_BODY_BYTES,
  timeoutMs = BODY_TIMEOUT_MS,
): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new ApiError(413, 'BODY_TOO_LARGE', `The body may be at most ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  // The server has no request timeout (SSE streams are long), so bodies get their own.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    req.destroy();
  }, timeoutMs);
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new ApiError(413, 'BODY_TOO_LARGE', `The body may be at most ${limit} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (timedOut) throw new ApiError(408, 'BODY_TIMEOUT', `The body did not arrive within ${timeoutMs} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'INVALID_JSON', 'The body is not valid JSON');
  }
}

export function readObject(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ApiError(400, 'INVALID_BODY', 'The body must be a JSON object');
  return body as Record<string, unknown>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ApiError(400, 'INVALID_FIELD', `${field} must be a string`, {}, { field });
  return v;
}
