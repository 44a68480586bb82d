import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { WebhookSecretError } from './errors.js';

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Shorter keys are refused: Standard Webhooks asks for 24 to 64 bytes; 16 is the least we sign with. */
export const MIN_WEBHOOK_KEY_BYTES = 16;
const MAX_WEBHOOK_KEY_BYTES = 1024;

/** A fresh `whsec_<base64>` secret: 32 random bytes, in the form every Standard Webhooks library reads. */
export function generateWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/** Printable ASCII only: raw-key verifiers disagree on how other characters become bytes. */
const PLAIN = /^[\x21-\x7e]+$/;

/**
 * The HMAC key for a webhook secret, in either form a Standard Webhooks verifier reads:
 * - `whsec_<base64>` (what their libraries and Svix generate, and what `generateWebhookSecret` makes): the key is
 *   the base64-decoded bytes after the prefix;
 * - any other string (the design's `"optional-hmac-secret"`): the key is the secret's own bytes, what the
 *   libraries call raw-key mode (`new Webhook(secret, { format: 'raw' })` in the `standardwebhooks` package).
 * Either way the key is 16 to 1024 bytes. A plain secret must be printable ASCII without spaces, so every
 * library turns it into the same bytes; a `whsec_` secret that is not base64 is refused rather than read raw,
 * because a receiver's default mode would decode it.
 */
export function webhookSecretKey(secret: string): KeyObject {
  if (typeof secret !== 'string' || secret.length === 0) throw new WebhookSecretError('The webhook secret is empty');
  if (!secret.startsWith(PREFIX)) return createSecretKey(plainKey(secret));
  const encoded = secret.slice(PREFIX.length);
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) {
    throw new WebhookSecretError('A webhook secret starting with "whsec_" must continue with base64 (the key bytes)');
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_WEBHOOK_KEY_BYTES || key.length > MAX_WEBHOOK_KEY_BYTES) {
    throw new WebhookSecretError(
      `A webhook secret's key must be ${MIN_WEBHOOK_KEY_BYTES} to ${MAX_WEBHOOK_KEY_BYTES} bytes (32 recommended), not ${key.length}`,
    );
  }
  return createSecretKey(key);
}

function plainKey(secret: string): Buffer {
  if (!PLAIN.test(secret)) {
    throw new WebhookSecretError(
      'A plain webhook secret (used as the raw HMAC key) must be printable ASCII without spaces; or send whsec_<base64>, or "generate"',
    );
  }
  if (secret.length < MIN_WEBHOOK_KEY_BYTES || secret.length > MAX_WEBHOOK_KEY_BYTES) {
    throw new WebhookSecretError(
      `A plain webhook secret (used as the raw HMAC key) must be ${MIN_WEBHOOK_KEY_BYTES} to ${MAX_WEBHOOK_KEY_BYTES} characters, not ${secret.length}; or send "generate" to have one made`,
    );
  }
  return Buffer.from(secret, 'ascii');
}
