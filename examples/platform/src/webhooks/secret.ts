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

/**
 * The HMAC key for a webhook secret, which must be in the Standard Webhooks form `whsec_<base64>` (what their
 * libraries and Svix generate, and what `generateWebhookSecret` makes): the key is the base64-decoded bytes after
 * the prefix, at least 16 of them. Anything else — empty, a plain password, bad base64 — is refused, because a
 * receiver using a standard verifier could not check the signatures made with it.
 */
export function webhookSecretKey(secret: string): KeyObject {
  if (typeof secret !== 'string' || secret.length === 0) throw new WebhookSecretError('The webhook secret is empty');
  if (!secret.startsWith(PREFIX)) {
    throw new WebhookSecretError(
      'A webhook secret must be whsec_<base64> (the Standard Webhooks form); send "generate" to have one made',
    );
  }
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
