import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { readBody } from './loopback-server.js';

/** A request to a fake model API, as the fakes record it. */
export interface JsonRequest {
  method: string;
  /** With the query, as it came. */
  path: string;
  /** One value per name: repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The parsed JSON body; undefined when there is none or it is not JSON (a fake answers it, never throws). */
  body: unknown;
}

/** Reads a request to a fake model API whole: what every fake records before it picks its answer. */
export async function readJsonRequest(req: IncomingMessage): Promise<JsonRequest> {
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = raw.length ? JSON.parse(raw) : undefined;
  } catch {
    body = undefined;
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { method: req.method ?? 'GET', path: req.url ?? '/', headers, body };
}

/** Answers with a JSON body and its length (and any headers the imitated API adds, e.g. a request id). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
