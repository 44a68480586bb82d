import { createSecretKey, type KeyObject } from 'node:crypto';
import { WebhookSecretError } from './errors.js';

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The HMAC key for a webhook secret.
 * - `whsec_<base64>` (the Standard Webhooks convention, what their libraries and Svix generate): the key is the
 *   base64-decoded bytes after the prefix.
 * - any other string: the key is the string's UTF-8 bytes, as-is. (The reference libraries would base64-decode an
 *   unprefixed secret too; use a `whsec_` secret when the receiver uses one of them.)
 */
export function webhookSecretKey(secret: string): KeyObject {
  if (typeof secret !== 'string' || secret.length === 0) throw new WebhookSecretError('The webhook secret is empty');
  if (!secret.startsWith(PREFIX)) return createSecretKey(Buffer.from(secret, 'utf8'));
  const encoded = secret.slice(PREFIX.length);
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) {
    throw new WebhookSecretError('A webhook secret starting with "whsec_" must continue with base64 (the key bytes)');
  }
  return createSecretKey(Buffer.from(encoded, 'base64'));
}
