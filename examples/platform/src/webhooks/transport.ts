import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { isIPv6, type LookupFunction } from 'node:net';
import type { UrlGuard } from './url-guard.js';

export interface PostRequest {
  url: URL;
  /** Made for this one attempt: nodeTransport adds `content-length` to it rather than copying it. */
  headers: Record<string, string>;
  body: string;
  /** Aborted when the channel stops (close, give-up). */
  signal: AbortSignal;
  /** Until the response is in (headers and body). */
  timeoutMs: number;
}

export type PostOutcome =
  | { kind: 'response'; status: number; retryAfter: string | null }
  | { kind: 'error'; reason: 'timeout' | 'network' | 'refused' | 'aborted'; message: string };

/** One POST; never throws — every failure is an outcome the retry policy classifies. */
export type Transport = (request: PostRequest) => Promise<PostOutcome>;

/** Receivers' reply bodies are not read; past this much the connection is dropped rather than drained. */
const MAX_DRAINED_BYTES = 64 * 1024;

/**
 * POSTs with node:http(s) through keep-alive agents whose DNS lookup runs the SSRF guard on every new connection,
 * so a host that re-resolves to a private address after `open` (DNS rebinding) is refused, not reached.
 */
export function nodeTransport(guard: UrlGuard, options: { ca?: string[] } = {}): { post: Transport; close(): void } {
  const lookup: LookupFunction = (hostname, options, callback) => {
    guard
      .resolve(hostname)
      .then((addresses) => {
        guard.checkAddresses(hostname, addresses);
        const entries = addresses
          .map((address) => ({ address, family: isIPv6(address) ? 6 : 4 }))
          .filter((e) => !options.family || options.family === e.family);
        const first = entries[0];
        if (!first) throw Object.assign(new Error(`No usable address for ${hostname}`), { code: 'ENOTFOUND' });
        if (options.all) (callback as unknown as (e: null, a: typeof entries) => void)(null, entries);
        else callback(null, first.address, first.family);
      })
      .catch((error: NodeJS.ErrnoException) => callback(error, '', 0));
  };
  const agents = {
    'http:': new http.Agent({ keepAlive: true, lookup }),
    // Extra CAs are added to Node's bundled roots, not put in their place: public receivers keep working.
    'https:': new https.Agent({
      keepAlive: true,
      lookup,
      ...(options.ca?.length ? { ca: [...rootCertificates, ...options.ca] } : {}),
    }),
  };

  const post: Transport = (request) =>
    new Promise<PostOutcome>((resolve) => {
      start({
        request,
        resolve,
        agent: request.url.protocol === 'https:' ? agents['https:'] : agents['http:'],
        contentLength: String(Buffer.byteLength(request.body)),
        req: undefined,
        timer: undefined,
        answer: undefined,
        drained: 0,
        settled: false,
        resent: false,
      });
    });
  return {
    post,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

/**
 * One POST under way. Every event of every request makes one, so the listeners below are module-level functions
 * that find it through the request they fire on (`this`), rather than closures made per POST.
 */
interface Attempt {
  request: PostRequest;
  resolve: (outcome: PostOutcome) => void;
  agent: http.Agent;
  contentLength: string;
  req: http.ClientRequest | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The response, once its headers are in. */
  answer: PostOutcome | undefined;
  drained: number;
  settled: boolean;
  /** Already sent again after a stale keep-alive socket. */
  resent: boolean;
}

const ATTEMPT = Symbol('webhook attempt');
type AttemptRequest = http.ClientRequest & { [ATTEMPT]?: Attempt };

/** The attempts under way per stop signal (a channel's; one at a time), so each signal gets one listener, not one per POST. */
const underWay = new WeakMap<AbortSignal, Set<Attempt>>();

function onStop(this: AbortSignal): void {
  const attempts = underWay.get(this);
  if (!attempts) return;
  for (const attempt of [...attempts]) {
    settle(attempt, { kind: 'error', reason: 'aborted', message: 'Delivery stopped' });
    attempt.req?.destroy();
  }
}

function start(attempt: Attempt): void {
  const { request } = attempt;
  const { signal } = request;
  if (signal.aborted) {
    attempt.resolve({ kind: 'error', reason: 'aborted', message: 'Delivery stopped' });
    return;
  }
  let attempts = underWay.get(signal);
  if (!attempts) {
    attempts = new Set();
    underWay.set(signal, attempts);
    signal.addEventListener('abort', onStop, { once: true });
  }
  attempts.add(attempt);
  const headers = request.headers;
  headers['content-length'] = attempt.contentLength;
  const req: AttemptRequest = (request.url.protocol === 'https:' ? https : http).request(request.url, {
    method: 'POST',
    agent: attempt.agent,
    headers,
  });
  req[ATTEMPT] = attempt;
  attempt.req = req;
  attempt.answer = undefined;
  attempt.drained = 0;
  attempt.timer = setTimeout(onTimeout, request.timeoutMs, attempt);
  req.on('error', onRequestError);
  req.on('response', onResponse);
  req.end(request.body);
}

function settle(attempt: Attempt, outcome: PostOutcome): void {
  if (attempt.settled) return;
  attempt.settled = true;
  clearTimeout(attempt.timer);
  underWay.get(attempt.request.signal)?.delete(attempt);
  attempt.resolve(outcome);
}

function onTimeout(attempt: Attempt): void {
  // Headers in but the body never ends: the receiver did answer; the socket is not worth keeping.
  settle(
    attempt,
    attempt.answer ?? {
      kind: 'error',
      reason: 'timeout',
      message: `No response within ${attempt.request.timeoutMs} ms`,
    },
  );
  attempt.req?.destroy();
}

function onRequestError(this: AttemptRequest, error: NodeJS.ErrnoException): void {
  const attempt = this[ATTEMPT]!;
  if (attempt.req !== this || attempt.settled) return;
  if (attempt.answer) {
    settle(attempt, attempt.answer); // the receiver answered; only the body broke off
    return;
  }
  // A keep-alive socket the receiver closed while idle fails at once with ECONNRESET; that says nothing about the
  // receiver, so it is tried once more on a fresh connection instead of waiting out a backoff.
  if (this.reusedSocket && error.code === 'ECONNRESET' && !attempt.resent && !attempt.request.signal.aborted) {
    attempt.resent = true;
    clearTimeout(attempt.timer);
    start(attempt);
    return;
  }
  if (error.code === 'WEBHOOK_URL_REFUSED')
    settle(attempt, { kind: 'error', reason: 'refused', message: error.message });
  else settle(attempt, { kind: 'error', reason: 'network', message: `${error.code ?? 'ERROR'}: ${error.message}` });
}

function onResponse(this: AttemptRequest, res: http.IncomingMessage): void {
  const attempt = this[ATTEMPT]!;
  const retryAfter = res.headers['retry-after'];
  attempt.answer = { kind: 'response', status: res.statusCode ?? 0, retryAfter: retryAfter ?? null };
  // Settled only once the body is drained: the socket then goes back to the pool before the next event's POST,
  // which reuses it instead of opening a new connection.
  res.on('data', onResponseData);
  res.on('end', onResponseEnd);
  res.on('close', onResponseEnd);
  res.on('error', ignore);
}

type AttemptResponse = http.IncomingMessage & { req: AttemptRequest };

function onResponseData(this: AttemptResponse, chunk: Buffer): void {
  const attempt = this.req[ATTEMPT]!;
  attempt.drained += chunk.length;
  if (attempt.drained > MAX_DRAINED_BYTES) this.destroy();
}

function onResponseEnd(this: AttemptResponse): void {
  const attempt = this.req[ATTEMPT]!;
  if (attempt.req === this.req && attempt.answer) settle(attempt, attempt.answer);
}

function ignore(): void {}

/**
 * POSTs with an injected fetch. Redirects are not followed. The guard ran at `open`; unlike nodeTransport, a
 * fetch cannot re-check addresses per connection — the injected fetch owns that.
 */
export function fetchTransport(fetchFn: typeof fetch): Transport {
  return async (request) => {
    const timeout = AbortSignal.timeout(request.timeoutMs);
    try {
      const res = await fetchFn(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.any([request.signal, timeout]),
      });
      void res.body?.cancel().catch(() => {});
      return { kind: 'response', status: res.status, retryAfter: res.headers.get('retry-after') };
    } catch (error) {
      if (request.signal.aborted) return { kind: 'error', reason: 'aborted', message: 'Delivery stopped' };
      if (timeout.aborted)
        return { kind: 'error', reason: 'timeout', message: `No response within ${request.timeoutMs} ms` };
      return { kind: 'error', reason: 'network', message: error instanceof Error ? error.message : String(error) };
    }
  };
}
