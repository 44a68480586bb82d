import type { IncomingHttpHeaders } from 'node:http';
import { isIPv6, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent, Client, type Dispatcher } from 'undici';

type ConnectOptions = NonNullable<Client.Options['connect']>;
import type { UrlGuard } from './url-guard.js';

export interface PostRequest {
  url: URL;
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
 * POSTs with undici through one keep-alive agent whose DNS lookup runs the SSRF guard on every new connection, so a
 * host that re-resolves to a private address after `open` (DNS rebinding) is refused, not reached. undici rather
 * than node:http: a POST through its dispatcher costs about 0.6 of `http.request`'s CPU time (bench/README.md),
 * and every event of every run is one POST. It follows no redirect (no redirect interceptor is installed).
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
  // Extra CAs are added to Node's bundled roots, not put in their place: public receivers keep working.
  const connect: ConnectOptions = {
    lookup,
    ...(options.ca?.length ? { ca: [...rootCertificates, ...options.ca] } : {}),
  };
  const agent = new Agent({ connect });
  const post: Transport = (request) =>
    new Promise<PostOutcome>((resolve) => new Attempt(agent, connect, request, resolve).start());
  return {
    post,
    close() {
      void agent.destroy().catch(() => {});
    },
  };
}

/** The attempts under way per stop signal (a channel's; one at a time), so each signal gets one listener, not one per POST. */
const underWay = new WeakMap<AbortSignal, Set<Attempt>>();

function onStop(this: AbortSignal): void {
  const attempts = underWay.get(this);
  if (!attempts) return;
  for (const attempt of [...attempts]) attempt.stop({ kind: 'error', reason: 'aborted', message: 'Delivery stopped' });
}

function onTimeout(attempt: Attempt): void {
  // Headers in but the body never ends: the receiver did answer; the connection is not worth keeping.
  attempt.stop(
    attempt.answer ?? {
      kind: 'error',
      reason: 'timeout',
      message: `No response within ${attempt.request.timeoutMs} ms`,
    },
  );
}

/**
 * One POST under way, as undici's dispatch handler: every event of every request makes one, so it is one object
 * with methods rather than closures made per POST.
 */
class Attempt implements Dispatcher.DispatchHandler {
  /** The response, once its headers are in. */
  answer: PostOutcome | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private drained = 0;
  private settled = false;
  /** Already sent again after a kept-alive connection turned out closed. */
  private resent = false;
  /** Closes the one-off connection of a resend. */
  private done: (() => void) | undefined;

  constructor(
    private dispatcher: Dispatcher,
    private readonly connect: ConnectOptions,
    readonly request: PostRequest,
    private readonly resolve: (outcome: PostOutcome) => void,
  ) {}

  start(): void {
    const { signal, url } = this.request;
    if (signal.aborted) {
      this.settle({ kind: 'error', reason: 'aborted', message: 'Delivery stopped' });
      return;
    }
    let attempts = underWay.get(signal);
    if (!attempts) {
      attempts = new Set();
      underWay.set(signal, attempts);
      signal.addEventListener('abort', onStop, { once: true });
    }
    attempts.add(this);
    this.answer = undefined;
    this.controller = undefined;
    this.drained = 0;
    this.timer = setTimeout(onTimeout, this.request.timeoutMs, this);
    this.dispatcher.dispatch(
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: this.request.headers,
        body: this.request.body,
      },
      this,
    );
  }

  /** Ends the attempt with `outcome` and drops its connection. */
  stop(outcome: PostOutcome): void {
    if (this.settled) return;
    this.settle(outcome);
    this.controller?.abort(new Error('webhook delivery stopped'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new Error('webhook delivery stopped'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    const retryAfter = headers['retry-after'];
    this.answer = {
      kind: 'response',
      status: statusCode,
      retryAfter: Array.isArray(retryAfter) ? (retryAfter[0] ?? null) : (retryAfter ?? null),
    };
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.drained += chunk.length;
    // Settled by its status; the rest of a huge body is not read, and its connection goes.
    if (this.drained > MAX_DRAINED_BYTES && this.answer) this.stop(this.answer);
    else if (this.drained > MAX_DRAINED_BYTES) controller.abort(new Error('webhook reply body too large'));
  }

  /** Settled only once the body is drained: the connection then goes back to the pool before the next event's POST. */
  onResponseEnd(): void {
    if (this.answer) this.settle(this.answer);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return;
    if (this.answer) {
      this.settle(this.answer); // the receiver answered; only the body broke off
      return;
    }
    const code = (error as NodeJS.ErrnoException).code;
    // A kept-alive connection the receiver closed while idle fails at once ("other side closed", a reset); that
    // says nothing about the receiver, so it is tried once more, on a connection of its own, instead of waiting out
    // a backoff. undici does not say whether the connection was a reused one, so a reset on a new one is retried
    // once too.
    if ((code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') && !this.resent && !this.request.signal.aborted) {
      this.resent = true;
      clearTimeout(this.timer);
      const fresh = new Client(this.request.url.origin, { connect: this.connect, pipelining: 1 });
      this.dispatcher = fresh;
      this.start();
      this.done = () => void fresh.close().catch(() => {});
      return;
    }
    if (code === 'WEBHOOK_URL_REFUSED') this.settle({ kind: 'error', reason: 'refused', message: error.message });
    else this.settle({ kind: 'error', reason: 'network', message: `${code ?? 'ERROR'}: ${error.message}` });
  }

  private settle(outcome: PostOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.done?.();
    underWay.get(this.request.signal)?.delete(this);
    this.resolve(outcome);
  }
}

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
