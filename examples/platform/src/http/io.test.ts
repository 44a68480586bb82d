import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { errorResponse } from '../api-error.js';
import { readJson, sendJson } from './io.js';

describe('readJson', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  /** A server that reads the body with the given limits and answers with the result or the error. */
  const serve = async (limit: number, timeoutMs: number) => {
    const outcomes: unknown[] = [];
    server = createServer((req, res) => {
      readJson(req, limit, timeoutMs).then(
        (body) => (outcomes.push(body), sendJson(res, 200, { body })),
        (error: unknown) => {
          const r = errorResponse(error);
          outcomes.push(r.body.error.code);
          if (!res.destroyed) sendJson(res, r.status, r.body);
        },
      );
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return { port: (server.address() as AddressInfo).port, outcomes };
  };

  it('parses JSON, treats an empty body as none, and refuses bad or oversize bodies', async () => {
    const { port } = await serve(64, 5_000);
    const post = async (body: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body });
      return { status: res.status, json: await res.json() };
    };
    expect(await post('{"a":1}')).toEqual({ status: 200, json: { body: { a: 1 } } });
    expect(await post('')).toEqual({ status: 200, json: {} });
    expect((await post('{oops')).json.error.code).toBe('INVALID_JSON');
    expect(await post(JSON.stringify({ big: 'x'.repeat(100) }))).toMatchObject({
      status: 413,
      json: { error: { code: 'BODY_TOO_LARGE' } },
    });
  });

  it('gives up on a body that trickles in too slowly', async () => {
    const { port, outcomes } = await serve(1024, 50);
    const req = request({ host: '127.0.0.1', port, method: 'POST', headers: { 'content-length': '100' } });
    req.on('error', () => {});
    req.write('{"a":');
    // Never finish: the server must stop waiting on its own.
    while (!outcomes.length) await new Promise((r) => setTimeout(r, 10));
    expect(outcomes).toEqual(['BODY_TIMEOUT']);
    req.destroy();
  });
});
