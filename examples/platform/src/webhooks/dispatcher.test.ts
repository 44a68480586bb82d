import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { AgentEvent, Logger } from '@forge/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookDispatcher, type WebhookDispatcher, type WebhookDispatcherOptions } from './dispatcher.js';
import { WebhookUrlError } from './errors.js';
import { createReplayCache } from './replay-cache.js';
import { verifyWebhook } from './signature.js';
import { startTestReceiver, type TestReceiver } from './test-receiver.js';
import { TEST_TLS_CERT, TEST_TLS_KEY } from './test-tls.js';
import { createServer as createHttpsServer } from 'node:https';

const SECRET = 'whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NQ==';
const PLAIN_SECRET = 'whsec_YW5vdGhlci1rZXktZm9yLWFub3RoZXItcmVjZWl2ZXI=';

function events(n: number, runId = 'run_1'): AgentEvent[] {
  const out: AgentEvent[] = [];
  for (let seq = 1; seq < n; seq++)
    out.push({ runId, seq, time: seq, provider: 'test', type: 'text.delta', text: `t${seq}` });
  out.push({
    runId,
    seq: n,
    time: n,
    provider: 'test',
    type: 'run.completed',
    result: {
      status: 'completed',
      text: 'done',
      usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      durationMs: 1,
      turns: 1,
    },
  });
  return out;
}

interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}
function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/** Retries wait for nothing, and the delays asked for are recorded. */
function instantSleep(): { sleep: NonNullable<WebhookDispatcherOptions['sleep']>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

let receiver: TestReceiver;
const dispatchers: WebhookDispatcher[] = [];
function dispatcher(options: WebhookDispatcherOptions = {}): { d: WebhookDispatcher; lines: LogLine[] } {
  const { logger, lines } = captureLogger();
  const d = createWebhookDispatcher({ allowPrivateNetworks: ['127.0.0.1'], logger, ...options });
  dispatchers.push(d);
  return { d, lines };
}

beforeAll(async () => {
  receiver = await startTestReceiver();
});
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.close();
});
afterAll(async () => {
  await receiver.close();
});

describe('webhook delivery to a real receiver', () => {
  it('delivers every event in seq order under random latency, signed, with is_final exactly once', async () => {
    let x = 7;
    const jitter = () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % 15); // deterministic latency pattern
    receiver.script('/order-a', () => ({ status: 200, delayMs: jitter() }));
    receiver.script('/order-b', () => ({ status: 202, delayMs: jitter() }));
    const { d } = dispatcher();
    const a = await d.open({ url: receiver.url('/order-a'), secret: SECRET, agentId: 'agent_1', requestId: 'req_a' });
    const b = await d.open({
      url: receiver.url('/order-b'),
      secret: PLAIN_SECRET,
      agentId: 'agent_1',
      requestId: 'req_b',
    });
    const ea = events(40, 'run_a');
    const eb = events(25, 'run_b');
    for (let i = 0; i < 40; i++) {
      a.send(ea[i]!);
      if (eb[i]) b.send(eb[i]!);
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1)); // producers are not always faster than delivery
    }
    expect(await a.done).toEqual({ delivered: 40, failed: 0 });
    expect(await b.done).toEqual({ delivered: 25, failed: 0 });

    for (const [path, secret, n, requestId] of [
      ['/order-a', SECRET, 40, 'req_a'],
      ['/order-b', PLAIN_SECRET, 25, 'req_b'],
    ] as const) {
      const hits = receiver.hitsTo(path);
      expect(hits.map((h) => h.payload.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(hits.filter((h) => h.payload.is_final).map((h) => h.payload.seq)).toEqual([n]);
      expect(hits.at(-1)!.payload.event_type).toBe('agent.complete');
      expect(hits[0]!.payload).toMatchObject({
        event_type: 'agent.event',
        agent_id: 'agent_1',
        request_id: requestId,
        event: { type: 'text.delta' },
      });
      expect(hits[0]!.headers['content-type']).toBe('application/json');
      const seen = createReplayCache();
      for (const hit of hits) verifyWebhook(secret, hit.headers, hit.body, { seen });
      expect(seen.size).toBe(n); // a fresh webhook-id per message
    }
  });

  it('delivers with a plain secret (raw HMAC key) and webhook_payload native: the provider’s event rides along', async () => {
    receiver.script('/native', () => 200);
    const { d } = dispatcher();
    const secret = 'optional-hmac-secret';
    const ch = await d.open({ url: receiver.url('/native'), secret, payload: 'native', agentId: 'a', requestId: 'r' });
    const [first, last] = events(2);
    ch.send({ ...first!, raw: { type: 'assistant', message: { content: [] } } });
    ch.send(last!);
    expect(await ch.done).toEqual({ delivered: 2, failed: 0 });
    const hits = receiver.hitsTo('/native');
    expect(hits[0]!.payload).toMatchObject({ native_event_type: 'assistant', native_event: { type: 'assistant' } });
    expect(hits[1]!.payload).not.toHaveProperty('native_event');
    const { Webhook } = await import('standardwebhooks');
    for (const hit of hits)
      new Webhook(secret, { format: 'raw' }).verify(hit.body, hit.headers as Record<string, string>);
  });

  it('retries a receiver that fails twice with 500, keeping the webhook-id and the order', async () => {
    receiver.script('/flaky', (hit, n) => (hit.payload.seq === 1 && n <= 2 ? 500 : 200));
    const { sleep, delays } = instantSleep();
    const { d, lines } = dispatcher({ sleep, random: () => 0.5, retryBaseDelayMs: 100 });
    const ch = await d.open({ url: receiver.url('/flaky'), secret: SECRET, agentId: 'a', requestId: 'r' });
    for (const e of events(3)) ch.send(e);
    expect(await ch.done).toEqual({ delivered: 3, failed: 0 });
    const hits = receiver.hitsTo('/flaky');
    expect(hits.map((h) => h.payload.seq)).toEqual([1, 1, 1, 2, 3]);
    expect(new Set(hits.slice(0, 3).map((h) => h.headers['webhook-id'])).size).toBe(1);
    for (const hit of hits) verifyWebhook(SECRET, hit.headers, hit.body);
    expect(delays).toEqual([50, 100]); // full jitter at 0.5 of 100, 200
    expect(lines.some((l) => l.level === 'info' && l.message.includes('delivered after retrying'))).toBe(true);
  });

  it('honours Retry-After on 429, in seconds and as an HTTP date', async () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    receiver.script('/busy', (_hit, n) => {
      if (n === 1) return { status: 429, headers: { 'retry-after': '3' } };
      if (n === 2) return { status: 429, headers: { 'retry-after': new Date(now + 7000).toUTCString() } };
      return 200;
    });
    const { sleep, delays } = instantSleep();
    const { d } = dispatcher({ sleep, clock: { now: () => now }, random: () => 0 });
    const ch = await d.open({ url: receiver.url('/busy'), agentId: 'a', requestId: 'r' });
    for (const e of events(2)) ch.send(e);
    expect(await ch.done).toEqual({ delivered: 2, failed: 0 });
    expect(delays).toEqual([3000, 7000]);
    expect(receiver.hitsTo('/busy').map((h) => h.payload.seq)).toEqual([1, 1, 1, 2]);
    expect(receiver.hitsTo('/busy')[0]!.headers['webhook-timestamp']).toBe(String(now / 1000));
    expect(receiver.hitsTo('/busy')[0]!.headers['webhook-signature']).toBeUndefined(); // no secret, no signature
  });

  it('gives up when Retry-After points past the retry window', async () => {
    receiver.script('/later', () => ({ status: 503, headers: { 'retry-after': '3600' } }));
    const { sleep } = instantSleep();
    const { d } = dispatcher({ sleep, maxRetryWindowMs: 60_000 });
    const ch = await d.open({ url: receiver.url('/later'), agentId: 'a', requestId: 'r' });
    for (const e of events(2)) ch.send(e);
    const report = await ch.done;
    expect(report.gaveUp).toMatchObject({ reason: 'retry_window_exhausted', seq: 1 });
    expect(report.gaveUp!.message).toContain('Retry-After');
    expect(receiver.hitsTo('/later')).toHaveLength(1);
  });

  it('does not retry a 400, logs it and moves on to the next event', async () => {
    receiver.script('/picky', (hit) => (hit.payload.seq === 2 ? 400 : 200));
    const { sleep, delays } = instantSleep();
    const { d, lines } = dispatcher({ sleep });
    const ch = await d.open({ url: receiver.url('/picky'), agentId: 'a', requestId: 'r' });
    for (const e of events(4)) ch.send(e);
    expect(await ch.done).toEqual({ delivered: 3, failed: 1 });
    expect(receiver.hitsTo('/picky').map((h) => h.payload.seq)).toEqual([1, 2, 3, 4]);
    expect(delays).toEqual([]);
    expect(lines.find((l) => l.level === 'warn')).toMatchObject({ fields: { seq: 2, status: 400, attempt: 1 } });
  });

  it('stops a channel on 410 Gone and after too many rejections in a row', async () => {
    receiver.script('/gone', (hit) => (hit.payload.seq === 2 ? 410 : 200));
    receiver.script('/refusing', () => 403);
    const { d } = dispatcher({ maxConsecutiveRejections: 3 });
    const gone = await d.open({ url: receiver.url('/gone'), agentId: 'a', requestId: 'r1' });
    const refusing = await d.open({ url: receiver.url('/refusing'), agentId: 'a', requestId: 'r2' });
    for (const e of events(5)) {
      gone.send(e);
      refusing.send(e);
    }
    expect(await gone.done).toMatchObject({ delivered: 1, failed: 4, gaveUp: { reason: 'gone', seq: 2 } });
    expect(await refusing.done).toMatchObject({
      delivered: 0,
      failed: 5,
      gaveUp: { reason: 'too_many_rejections', seq: 3 },
    });
    expect(receiver.hitsTo('/gone')).toHaveLength(2);
    expect(receiver.hitsTo('/refusing')).toHaveLength(3);
  });

  it('does not follow redirects', async () => {
    receiver.script('/moved', () => ({ status: 302, headers: { location: receiver.url('/moved-target') } }));
    const { d } = dispatcher();
    const ch = await d.open({ url: receiver.url('/moved'), agentId: 'a', requestId: 'r' });
    for (const e of events(2)) ch.send(e);
    expect(await ch.done).toEqual({ delivered: 0, failed: 2 });
    expect(receiver.hitsTo('/moved-target')).toHaveLength(0);
  });

  it('times out a receiver that never answers, retries, and gives up within the window, logging without the secret', async () => {
    receiver.script('/silent', () => 'hang');
    const { d, lines } = dispatcher({
      requestTimeoutMs: 100,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 50,
      maxRetryWindowMs: 500,
    });
    const ch = await d.open({
      url: `http://user:pw-in-url@127.0.0.1:${receiver.port}/silent?token=tok-in-query`,
      secret: SECRET,
      agentId: 'a',
      requestId: 'r',
    });
    for (const e of events(3)) ch.send(e);
    const report = await ch.done;
    expect(report).toMatchObject({ delivered: 0, failed: 3, gaveUp: { reason: 'retry_window_exhausted', seq: 1 } });
    const hits = receiver.hitsTo('/silent');
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(new Set(hits.map((h) => h.payload.seq))).toEqual(new Set([1]));
    expect(hits[0]!.headers.authorization).toBe(`Basic ${Buffer.from('user:pw-in-url').toString('base64')}`);
    const gaveUp = lines.find((l) => l.message.includes('gave up'));
    expect(gaveUp).toMatchObject({
      level: 'warn',
      fields: {
        reason: 'retry_window_exhausted',
        dropped: 3,
        requestId: 'r',
        url: `http://127.0.0.1:${receiver.port}/silent?…`,
      },
    });
    const logged = JSON.stringify(lines);
    for (const secret of [SECRET, SECRET.slice(6), 'pw-in-url', 'tok-in-query']) expect(logged).not.toContain(secret);
  });

  it('keeps requests independent: a dead receiver does not delay another request', async () => {
    receiver.script('/dead', () => 'hang');
    receiver.script('/alive', () => 200);
    const { d } = dispatcher(); // default 10 s timeout and 5 min window: the dead channel is stuck for the whole test
    const dead = await d.open({ url: receiver.url('/dead'), agentId: 'a', requestId: 'dead' });
    const alive = await d.open({ url: receiver.url('/alive'), agentId: 'a', requestId: 'alive' });
    for (const [x, y] of events(20).map((e, i) => [e, events(20, 'run_alive')[i]!] as const)) {
      dead.send(x);
      alive.send(y);
    }
    expect(await alive.done).toEqual({ delivered: 20, failed: 0 });
    expect(await settled(dead.done)).toBe(false);
    expect(receiver.hitsTo('/dead')).toHaveLength(1);
    expect(d.stats()).toEqual({ channels: 1, queued: 20 });
    await d.close();
    expect(await dead.done).toMatchObject({ delivered: 0, failed: 20, gaveUp: { reason: 'closed', seq: 1 } });
  });

  it('gives up rather than queue more than maxQueuedPerRequest', async () => {
    receiver.script('/slow', () => 'hang');
    const { d, lines } = dispatcher({ maxQueuedPerRequest: 5 });
    const ch = await d.open({ url: receiver.url('/slow'), agentId: 'a', requestId: 'r' });
    for (const e of events(10)) ch.send(e); // never throws, never blocks
    expect(await ch.done).toMatchObject({ delivered: 0, failed: 6, gaveUp: { reason: 'queue_full', seq: 6 } });
    expect(lines.find((l) => l.message.includes('gave up'))).toMatchObject({
      fields: { reason: 'queue_full', dropped: 5 },
    });
    expect(d.stats()).toEqual({ channels: 0, queued: 0 });
  });

  it('bounds queued bytes too', async () => {
    receiver.script('/slow-bytes', () => 'hang');
    const { d } = dispatcher({ maxQueuedBytesPerRequest: 2000 });
    const ch = await d.open({ url: receiver.url('/slow-bytes'), agentId: 'a', requestId: 'r' });
    const big = (seq: number): AgentEvent => ({
      runId: 'r',
      seq,
      time: 0,
      provider: 't',
      type: 'message',
      text: 'x'.repeat(600),
    });
    for (let seq = 1; seq <= 5; seq++) ch.send(big(seq));
    expect(await ch.done).toMatchObject({ gaveUp: { reason: 'queue_full', seq: 3 } });
  });

  it('close() stops retries, drops the queue and logs it; close({ graceMs }) lets live receivers finish first', async () => {
    receiver.script('/close-hang', () => 'hang');
    receiver.script('/close-slow', () => ({ status: 200, delayMs: 5 }));
    const { d, lines } = dispatcher();
    const hung = await d.open({ url: receiver.url('/close-hang'), agentId: 'a', requestId: 'hung' });
    for (const e of events(3)) hung.send(e);
    await d.close();
    expect(await hung.done).toMatchObject({ delivered: 0, failed: 3, gaveUp: { reason: 'closed' } });
    expect(lines.find((l) => l.message.includes('gave up'))).toMatchObject({
      fields: { reason: 'closed', dropped: 3, requestId: 'hung' },
    });
    hung.send(events(4)[3]!); // after close: dropped, no throw
    await expect(d.open({ url: receiver.url('/x'), agentId: 'a', requestId: 'r' })).rejects.toMatchObject({
      code: 'WEBHOOK_DISPATCHER_CLOSED',
    });

    const { d: d2 } = dispatcher();
    const slow = await d2.open({ url: receiver.url('/close-slow'), agentId: 'a', requestId: 'slow' });
    for (const e of events(5)) slow.send(e);
    await d2.close({ graceMs: 20_000 });
    expect(await slow.done).toEqual({ delivered: 5, failed: 0 });
  });

  it('counts an answer whose body never ends or is huge by its status, without waiting on the body', async () => {
    receiver.script('/endless-body', () => ({ status: 200, hangBody: true }));
    receiver.script('/huge-body', () => ({ status: 200, body: 'x'.repeat(300_000) }));
    const { d } = dispatcher({ requestTimeoutMs: 200 });
    const endless = await d.open({ url: receiver.url('/endless-body'), agentId: 'a', requestId: 'r1' });
    const huge = await d.open({ url: receiver.url('/huge-body'), agentId: 'a', requestId: 'r2' });
    for (const e of events(2)) {
      endless.send(e);
      huge.send(e);
    }
    expect(await endless.done).toEqual({ delivered: 2, failed: 0 });
    expect(await huge.done).toEqual({ delivered: 2, failed: 0 });
    expect(receiver.hitsTo('/endless-body')).toHaveLength(2);
    expect(receiver.hitsTo('/huge-body')).toHaveLength(2);
  });

  it('resends at once, without backoff, when a reused keep-alive connection turns out closed', async () => {
    // A bare HTTP/1.1 server: answers the first request on each connection and resets the connection on the
    // second, which the client had every reason to reuse.
    let requests = 0;
    const sockets = new Set<Socket>();
    const server = createTcpServer((socket) => {
      sockets.add(socket);
      let onThisSocket = 0;
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        requests++;
        if (++onThisSocket === 1) socket.write('HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n');
        else socket.resetAndDestroy();
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { sleep, delays } = instantSleep();
      const { d } = dispatcher({ sleep });
      const ch = await d.open({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        agentId: 'a',
        requestId: 'r',
      });
      for (const e of events(2)) ch.send(e);
      expect(await ch.done).toEqual({ delivered: 2, failed: 0 });
      // 1, 2 (reset), 2 again on a new connection; or 1, 2 when the pool had put 2 on a new connection already.
      expect([2, 3]).toContain(requests);
      expect(delays).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('send() swallows and logs what it cannot queue', async () => {
    const { d, lines } = dispatcher();
    const ch = await d.open({ url: receiver.url('/garbage'), agentId: 'a', requestId: 'r' });
    expect(() => ch.send(undefined as unknown as AgentEvent)).not.toThrow();
    for (const e of events(1)) ch.send(e);
    expect(await ch.done).toEqual({ delivered: 1, failed: 1 });
    expect(lines.some((l) => l.level === 'error' && l.message.includes('could not queue'))).toBe(true);
  });

  it('ignores events after the final one, so is_final is sent once', async () => {
    const { d, lines } = dispatcher();
    const ch = await d.open({ url: receiver.url('/twice-final'), agentId: 'a', requestId: 'r' });
    const evs = events(2);
    for (const e of [...evs, { ...evs[1]!, seq: 3 }]) ch.send(e);
    expect(await ch.done).toEqual({ delivered: 2, failed: 0 });
    expect(receiver.hitsTo('/twice-final').filter((h) => h.payload.is_final)).toHaveLength(1);
    expect(lines.some((l) => l.message.includes('after run.completed'))).toBe(true);
  });

  it('delivers through an injected fetch, which follows no redirect either', async () => {
    receiver.script('/via-fetch', (hit, n) =>
      n === 1 ? 500 : hit.payload.seq === 2 ? { status: 307, headers: { location: '/via-fetch-target' } } : 200,
    );
    const { sleep } = instantSleep();
    const { d } = dispatcher({ fetch: globalThis.fetch, sleep });
    const ch = await d.open({ url: receiver.url('/via-fetch'), secret: SECRET, agentId: 'a', requestId: 'r' });
    for (const e of events(3)) ch.send(e);
    expect(await ch.done).toEqual({ delivered: 2, failed: 1 });
    expect(receiver.hitsTo('/via-fetch').map((h) => h.payload.seq)).toEqual([1, 1, 2, 3]);
    expect(receiver.hitsTo('/via-fetch-target')).toHaveLength(0);
    for (const hit of receiver.hitsTo('/via-fetch')) verifyWebhook(SECRET, hit.headers, hit.body);
  });
});

describe('webhook URLs and DNS', () => {
  it('refuses a private URL at open unless allowed', async () => {
    const strict = createWebhookDispatcher();
    dispatchers.push(strict);
    const error = await strict.open({ url: receiver.url('/x'), agentId: 'a', requestId: 'r' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookUrlError);
    expect(error).toMatchObject({ code: 'WEBHOOK_URL_REFUSED', category: 'validation' });
    await expect(strict.open({ url: 'gopher://x', agentId: 'a', requestId: 'r' })).rejects.toMatchObject({
      code: 'WEBHOOK_URL_INVALID',
    });
    await expect(
      strict.open({ url: 'https://example.com', secret: '', agentId: 'a', requestId: 'r' }),
    ).rejects.toMatchObject({ code: 'WEBHOOK_SECRET_INVALID' });
    await expect(strict.open({ url: 'https://example.com', agentId: '', requestId: 'r' })).rejects.toMatchObject({
      code: 'WEBHOOK_TARGET_INVALID',
    });
  });

  it('connects by hostname through the injected resolver, checked again at connect time', async () => {
    const { d } = dispatcher({ resolve: async (host) => (host === 'receiver.test' ? ['127.0.0.1'] : []) });
    const ch = await d.open({ url: `http://receiver.test:${receiver.port}/by-name`, agentId: 'a', requestId: 'r' });
    for (const e of events(2)) ch.send(e);
    expect(await ch.done).toEqual({ delivered: 2, failed: 0 });
    expect(receiver.hitsTo('/by-name')[0]!.headers.host).toBe(`receiver.test:${receiver.port}`);
  });

  it('delivers over https by hostname, trusting an extra CA, and refuses an untrusted certificate', async () => {
    const bodies: string[] = [];
    const server = createHttpsServer({ cert: TEST_TLS_CERT, key: TEST_TLS_KEY }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://receiver.test:${(server.address() as AddressInfo).port}/tls`;
    const resolve = async () => ['127.0.0.1'];
    try {
      const { d } = dispatcher({ resolve, ca: TEST_TLS_CERT });
      const ch = await d.open({ url, secret: SECRET, agentId: 'a', requestId: 'r' });
      for (const e of events(2)) ch.send(e);
      expect(await ch.done).toEqual({ delivered: 2, failed: 0 });
      expect(bodies.map((b) => JSON.parse(b).seq)).toEqual([1, 2]);

      // Without the CA the TLS handshake fails: a network error, retried until the (short) window closes.
      const { d: strict, lines } = dispatcher({ resolve, maxRetryWindowMs: 50, retryBaseDelayMs: 10 });
      const refused = await strict.open({ url, agentId: 'a', requestId: 'r2' });
      for (const e of events(1)) refused.send(e);
      expect(await refused.done).toMatchObject({ delivered: 0, gaveUp: { reason: 'retry_window_exhausted' } });
      expect(bodies).toHaveLength(2);
      expect(JSON.stringify(lines)).toMatch(/certificate/i);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('refuses a host that re-resolves to loopback after open (DNS rebinding), without connecting', async () => {
    let lookups = 0;
    const { d } = dispatcher({
      allowPrivateNetworks: false,
      resolve: async () => (++lookups === 1 ? ['93.184.216.34'] : ['127.0.0.1']),
    });
    const ch = await d.open({ url: `http://rebind.test:${receiver.port}/rebind`, agentId: 'a', requestId: 'r' });
    for (const e of events(2)) ch.send(e);
    expect(await ch.done).toMatchObject({ delivered: 0, failed: 2, gaveUp: { reason: 'url_refused', seq: 1 } });
    expect(receiver.hitsTo('/rebind')).toHaveLength(0);
    expect(lookups).toBe(2);
  });
});
