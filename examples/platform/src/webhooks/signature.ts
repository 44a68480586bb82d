import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { WebhookVerificationError } from './errors.js';
import type { WebhookPayload } from './payload.js';
import { createReplayCache, type ReplayCache } from './replay-cache.js';
import { webhookSecretKey } from './secret.js';

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function hmac(key: KeyObject, msgId: string, timestamp: number, body: string | Uint8Array): Buffer {
  const mac = createHmac('sha256', key).update(`${msgId}.${timestamp}.`, 'utf8');
  mac.update(body);
  return mac.digest();
}

/** `v1,<base64 HMAC-SHA256 of "${msgId}.${timestamp}.${body}">` — one entry of the `webhook-signature` header. */
export function signWebhook(
  secret: string | KeyObject,
  msgId: string,
  timestamp: number,
  body: string | Uint8Array,
): string {
  const key = typeof secret === 'string' ? webhookSecretKey(secret) : secret;
  return `v1,${hmac(key, msgId, timestamp, body).toString('base64')}`;
}

/** The `webhook-*` headers of one delivery attempt, added to `into` (or a new object); the signature only when there is a key. */
export function webhookHeaders(
  key: KeyObject | undefined,
  msgId: string,
  timestamp: number,
  body: string,
  into: Record<string, string> = {},
): Record<string, string> {
  into['webhook-id'] = msgId;
  into['webhook-timestamp'] = String(timestamp);
  if (key) into['webhook-signature'] = signWebhook(key, msgId, timestamp, body);
  return into;
}

export interface VerifyWebhookOptions {
  /** Largest accepted difference between the sender's timestamp and now, either way (default 300 s). */
  toleranceSeconds?: number;
  /** Epoch ms (default Date.now). */
  now?: () => number;
  /** Rejects a webhook-id seen before. Without one, only the tolerance window limits replays. */
  seen?: ReplayCache;
}

export interface VerifiedWebhook {
  id: string;
  /** Seconds since the epoch, as signed. */
  timestamp: number;
  payload: WebhookPayload;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  let value = record[name];
  if (value === undefined) {
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : record[key];
  }
  return Array.isArray(value) ? value.join(' ') : value;
}

/**
 * Verifies a Standard Webhooks request and returns its parsed payload; throws WebhookVerificationError otherwise.
 * Pass the raw body exactly as received (before any JSON parsing). Signatures are compared in constant time; any
 * one of several space-separated `v1,…` entries may match (a sender rotating secrets signs with both).
 */
export function verifyWebhook(
  secret: string | KeyObject,
  headers: WebhookHeaders,
  body: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): VerifiedWebhook {
  const key = typeof secret === 'string' ? webhookSecretKey(secret) : secret;
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) {
    throw new WebhookVerificationError(
      'WEBHOOK_HEADERS_MISSING',
      'webhook-id, webhook-timestamp and webhook-signature headers are required',
    );
  }
  if (!/^\d{1,15}$/.test(timestampText.trim())) {
    throw new WebhookVerificationError(
      'WEBHOOK_TIMESTAMP_INVALID',
      'webhook-timestamp must be whole seconds since the epoch',
    );
  }
  const timestamp = Number(timestampText.trim());
  const tolerance = options.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  if (timestamp < nowSeconds - tolerance) {
    throw new WebhookVerificationError(
      'WEBHOOK_TIMESTAMP_TOO_OLD',
      `webhook-timestamp is more than ${tolerance} s in the past`,
    );
  }
  if (timestamp > nowSeconds + tolerance) {
    throw new WebhookVerificationError(
      'WEBHOOK_TIMESTAMP_TOO_NEW',
      `webhook-timestamp is more than ${tolerance} s in the future`,
    );
  }

  const expected = hmac(key, id, timestamp, body);
  let matched = false;
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    // Lengths are public (a SHA-256 MAC is always 32 bytes); only the bytes need the constant-time compare.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) throw new WebhookVerificationError('WEBHOOK_SIGNATURE_INVALID', 'No webhook-signature entry matches');

  // Only after the signature: unsigned requests must not be able to fill the cache or burn real ids.
  if (options.seen && !options.seen.remember(id, nowSeconds)) {
    throw new WebhookVerificationError('WEBHOOK_REPLAYED', `webhook-id ${id} was already received`);
  }

  let payload: WebhookPayload;
  try {
    payload = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')) as WebhookPayload;
  } catch {
    throw new WebhookVerificationError('WEBHOOK_PAYLOAD_INVALID', 'The signed body is not JSON');
  }
  return { id, timestamp, payload };
}

export interface WebhookVerifier {
  verify(headers: WebhookHeaders, body: string | Uint8Array): VerifiedWebhook;
  /** Call when handling a verified webhook failed (before answering 5xx), so the sender's retry is accepted. */
  forget(id: string): void;
}

/** A receiver's verifier: the secret parsed once, and its own replay cache unless one is given. */
export function createWebhookVerifier(secret: string, options: VerifyWebhookOptions = {}): WebhookVerifier {
  const key = webhookSecretKey(secret);
  const tolerance = options.toleranceSeconds ?? 300;
  const seen = options.seen ?? createReplayCache({ ttlSeconds: 2 * tolerance + 60 });
  return {
    verify: (headers, body) => verifyWebhook(key, headers, body, { ...options, seen }),
    forget: (id) => seen.forget(id),
  };
}
