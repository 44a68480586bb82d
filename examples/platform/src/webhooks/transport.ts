import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { isIPv6, type LookupFunction } from 'node:net';
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

  // A keep-alive socket the receiver closed while idle fails at once with ECONNRESET; that says nothing about the
  // receiver, so it is tried once more on a fresh connection instead of waiting out a backoff.
  const post: Transport = async (request) => {
    const first = await postOnce(request);
    if (first.staleSocket && !request.signal.aborted) return (await postOnce(request)).outcome;
    return first.outcome;
  };

  const postOnce = (request: PostRequest) =>
    new Promise<{ outcome: PostOutcome; staleSocket?: boolean }>((resolveOnce) => {
      let staleSocket = false;
      const resolve = (outcome: PostOutcome) => resolveOnce({ outcome, staleSocket });
      const { url, signal } = request;
      const isHttps = url.protocol === 'https:';
      let settled = false;
      const settle = (outcome: PostOutcome) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const req = (isHttps ? https : http).request(url, {
        method: 'POST',
        agent: isHttps ? agents['https:'] : agents['http:'],
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      });
      let answer: PostOutcome | undefined; // the response, once its headers are in
      const timer = setTimeout(() => {
        // Headers in but the body never ends: the receiver did answer; the socket is not worth keeping.
        settle(answer ?? { kind: 'error', reason: 'timeout', message: `No response within ${request.timeoutMs} ms` });
        req.destroy();
      }, request.timeoutMs);
      const onAbort = () => {
        settle({ kind: 'error', reason: 'aborted', message: 'Delivery stopped' });
        req.destroy();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });

      req.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (answer) return settle(answer); // the receiver answered; only the body broke off
        staleSocket = req.reusedSocket && error.code === 'ECONNRESET';
        if (error.code === 'WEBHOOK_URL_REFUSED') settle({ kind: 'error', reason: 'refused', message: error.message });
        else settle({ kind: 'error', reason: 'network', message: `${error.code ?? 'ERROR'}: ${error.message}` });
      });
      req.on('response', (res) => {
        const retryAfter = res.headers['retry-after'];
        answer = { kind: 'response', status: res.statusCode ?? 0, retryAfter: retryAfter ?? null };
        // Settled only once the body is drained: the socket then goes back to the pool before the next event's
        // POST, which reuses it instead of opening a new connection.
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_DRAINED_BYTES) res.destroy();
        });
        const done = () => {
          clearTimeout(timer);
          settle(answer!);
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', () => {});
      });
      req.end(request.body);
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
