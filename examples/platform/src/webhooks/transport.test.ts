import http from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeTransport, type PostRequest } from './transport.js';
import { createUrlGuard } from './url-guard.js';

const servers: http.Server[] = [];
const transports: Array<{ close(): void }> = [];
afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** A receiver that hangs on `/hang`, answers 204 elsewhere, and reports each connection's close. */
async function receiver(): Promise<{ url: (path: string) => URL; bodies: string[]; closed: () => number }> {
  const bodies: string[] = [];
  let closed = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      bodies.push(body);
      if (req.url !== '/hang') res.writeHead(204).end();
    });
  });
  server.on('connection', (socket: Socket) => socket.on('close', () => closed++));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: (path) => new URL(`http://127.0.0.1:${port}${path}`), bodies, closed: () => closed };
}

function transport() {
  const t = nodeTransport(createUrlGuard({ allowPrivateNetworks: ['127.0.0.1'] }));
  transports.push(t);
  return t.post;
}

const request = (url: URL, signal: AbortSignal, body = '{"n":1}'): PostRequest => ({
  url,
  headers: { 'content-type': 'application/json' },
  body,
  signal,
  timeoutMs: 10_000,
});

describe('nodeTransport', () => {
  it('posts one request after another on one stop signal, each settled with its own outcome', async () => {
    const r = await receiver();
    const post = transport();
    const stop = new AbortController();
    for (let i = 0; i < 3; i++) {
      expect(await post(request(r.url('/ok'), stop.signal, `{"n":${i}}`))).toEqual({
        kind: 'response',
        status: 204,
        retryAfter: null,
      });
    }
    expect(r.bodies).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
  });

  it('stopping the signal mid-POST settles it as aborted and drops its connection; later POSTs on it end at once', async () => {
    const r = await receiver();
    const post = transport();
    const stop = new AbortController();
    expect((await post(request(r.url('/ok'), stop.signal))).kind).toBe('response');
    const hung = post(request(r.url('/hang'), stop.signal));
    await expect.poll(() => r.bodies.length).toBe(2);
    stop.abort();
    expect(await hung).toEqual({ kind: 'error', reason: 'aborted', message: 'Delivery stopped' });
    await expect.poll(() => r.closed()).toBe(1);
    expect(await post(request(r.url('/ok'), stop.signal))).toMatchObject({ kind: 'error', reason: 'aborted' });
    expect(r.bodies).toHaveLength(2);
  });

  it('sends once more at once, on a connection of its own, when the connection is reset before any answer', async () => {
    // A bare HTTP/1.1 server that resets the first request it gets and answers every later one.
    let requests = 0;
    const sockets = new Set<Socket>();
    const server = createTcpServer((socket) => {
      sockets.add(socket);
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        if (++requests === 1) socket.resetAndDestroy();
        else socket.write('HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n');
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const post = transport();
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(await post(request(url, new AbortController().signal))).toMatchObject({ kind: 'response', status: 204 });
      expect(requests).toBe(2);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a stop signal ends only its own POST', async () => {
    const r = await receiver();
    const post = transport();
    const a = new AbortController();
    const b = new AbortController();
    const hungA = post(request(r.url('/hang'), a.signal));
    const hungB = post({ ...request(r.url('/hang'), b.signal), timeoutMs: 300 });
    await expect.poll(() => r.bodies.length).toBe(2);
    a.abort();
    expect(await hungA).toMatchObject({ kind: 'error', reason: 'aborted' });
    expect(await hungB).toEqual({ kind: 'error', reason: 'timeout', message: 'No response within 300 ms' });
  });
});
