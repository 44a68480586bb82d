import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ForgeError, ValidationError, silentLogger, systemClock, type Clock, type Logger } from '@forge/core';
import { DeliveryChannel, type ChannelSettings, type WebhookChannel } from './channel.js';
import { webhookSecretKey } from './secret.js';
import { fetchTransport, nodeTransport } from './transport.js';
import { createUrlGuard, type Resolver } from './url-guard.js';

export interface WebhookDispatcherOptions {
  /** POST with this instead of node:http (then redirects are still refused, but addresses are checked only at open). */
  fetch?: typeof fetch;
  /** PEM certificates trusted for https receivers besides Node's bundled roots (a private CA, a test certificate). */
  ca?: string | string[];
  /** Source of webhook-timestamp and of retry-window time (default Date.now). */
  clock?: Clock;
  logger?: Logger;
  /**
   * Lets webhook URLs reach loopback/private/link-local addresses: `true` for any, or hostnames, IPs and CIDRs
   * such as `['127.0.0.1/32']`. Default: refused.
   */
  allowPrivateNetworks?: boolean | string[];
  /** Per attempt, until the response headers (default 10 000). */
  requestTimeoutMs?: number;
  /** How long one event is retried, from its first attempt, before the channel gives up (default 300 000 = 5 min). */
  maxRetryWindowMs?: number;
  /** Events waiting per request before the channel gives up rather than grow (default 10 000). */
  maxQueuedPerRequest?: number;
  /** Bytes of JSON waiting per request before the channel gives up (default 16 MiB). */
  maxQueuedBytesPerRequest?: number;
  /** [0, 1) for backoff jitter (default Math.random). */
  random?: () => number;
  /** DNS for webhook hosts, at open and at every new connection (default: the system resolver). */
  resolve?: Resolver;
  /** How long `open` waits for DNS (default 5000); connections are bounded by requestTimeoutMs. */
  resolveTimeoutMs?: number;
  /** First retry's backoff ceiling; doubles each retry (default 500). */
  retryBaseDelayMs?: number;
  /** Largest backoff ceiling (default 30 000). */
  retryMaxDelayMs?: number;
  /** After this many non-retryable rejections in a row the channel gives up (default 10). */
  maxConsecutiveRejections?: number;
  /** Keep each event's provider-native `raw` in payloads (default false). */
  includeRaw?: boolean;
  userAgent?: string;
  /** How retries wait (default: an abortable setTimeout). Tests inject one to observe delays. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface WebhookTarget {
  url: string;
  /** `whsec_<base64>` (the key is the decoded bytes) or any other string (the key is its UTF-8 bytes). */
  secret?: string;
  /** `native`: each payload also carries the provider's native event (`native_event`, `native_event_type`). */
  payload?: 'native';
  agentId: string;
  requestId: string;
}

export interface WebhookDispatcherStats {
  /** Channels still delivering (or waiting for their final event). */
  channels: number;
  /** Events waiting across all channels, the one in flight included. */
  queued: number;
}

export interface WebhookDispatcher {
  /**
   * Checks the URL (scheme; loopback/private/link-local addresses after DNS resolution, unless allowed) and opens
   * one ordered delivery channel for one request. Throws WebhookUrlError (WEBHOOK_URL_INVALID | WEBHOOK_URL_REFUSED)
   * or WebhookSecretError (WEBHOOK_SECRET_INVALID) — all ValidationErrors, category 'validation'.
   */
  open(target: WebhookTarget): Promise<WebhookChannel>;
  /**
   * Stops retries and drops queued deliveries, logging what was dropped; every open channel's `done` resolves with
   * `gaveUp.reason: 'closed'`. With `graceMs`, first waits up to that long for channels to finish on their own.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  stats(): WebhookDispatcherStats;
}

// Resolves (never rejects) when the signal aborts, so a stopped channel's retry wait just ends.
const abortableSleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }).catch(() => {});

export function createWebhookDispatcher(options: WebhookDispatcherOptions = {}): WebhookDispatcher {
  const guard = createUrlGuard({
    allowPrivateNetworks: options.allowPrivateNetworks,
    resolve: options.resolve,
    resolveTimeoutMs: options.resolveTimeoutMs,
  });
  const node = options.fetch
    ? undefined
    : nodeTransport(guard, { ca: options.ca === undefined ? [] : [options.ca].flat() });
  const settings: ChannelSettings = {
    transport: options.fetch ? fetchTransport(options.fetch) : node!.post,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? abortableSleep,
    newMessageId: () => `msg_${randomUUID().replaceAll('-', '')}`,
    userAgent: options.userAgent ?? 'Forge-Webhooks/1.0',
    includeRaw: options.includeRaw ?? false,
    requestTimeoutMs: positive(options.requestTimeoutMs, 10_000, 'requestTimeoutMs'),
    maxRetryWindowMs: positive(options.maxRetryWindowMs, 300_000, 'maxRetryWindowMs'),
    retryBaseDelayMs: positive(options.retryBaseDelayMs, 500, 'retryBaseDelayMs'),
    retryMaxDelayMs: positive(options.retryMaxDelayMs, 30_000, 'retryMaxDelayMs'),
    maxQueuedPerRequest: positive(options.maxQueuedPerRequest, 10_000, 'maxQueuedPerRequest'),
    maxQueuedBytesPerRequest: positive(options.maxQueuedBytesPerRequest, 16 * 2 ** 20, 'maxQueuedBytesPerRequest'),
    maxConsecutiveRejections: positive(options.maxConsecutiveRejections, 10, 'maxConsecutiveRejections'),
  };
  const channels = new Set<DeliveryChannel>();
  let closed = false;
  const refuseClosed = () => {
    if (closed) throw new ForgeError('WEBHOOK_DISPATCHER_CLOSED', 'The webhook dispatcher is closed', 'conflict');
  };

  return {
    async open(target) {
      refuseClosed();
      for (const field of ['agentId', 'requestId'] as const) {
        if (typeof target[field] !== 'string' || target[field] === '') {
          throw new ValidationError('WEBHOOK_TARGET_INVALID', `${field} is required`, [
            { path: field, code: 'required', message: `${field} is required` },
          ]);
        }
      }
      const key = target.secret === undefined ? undefined : webhookSecretKey(target.secret);
      const url = await guard.check(target.url);
      refuseClosed(); // closed while DNS answered
      const channel: DeliveryChannel = new DeliveryChannel(
        { agentId: target.agentId, requestId: target.requestId, url, key, native: target.payload === 'native' },
        settings,
        () => channels.delete(channel),
      );
      channels.add(channel);
      return channel;
    },
    async close(closeOptions = {}) {
      closed = true;
      const graceMs = closeOptions.graceMs ?? 0;
      if (graceMs > 0 && channels.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all([...channels].map((c) => c.done)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
        ]);
        clearTimeout(timer);
      }
      for (const channel of [...channels]) channel.stop();
      node?.close();
    },
    stats() {
      let queued = 0;
      for (const channel of channels) queued += channel.queued;
      return { channels: channels.size, queued };
    },
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number, got ${value}`);
  return value;
}
