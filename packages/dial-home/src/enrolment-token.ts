import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ForgeError, ValidationError } from '@forge/core';
import { DialHomeCodes } from './errors.js';

/**
 * Enrolment tokens: `fdh1.<payload>.<signature>`, both base64url; the payload is JSON
 * `{ jti, iat, exp, name? }` and the signature HMAC-SHA256(secret, "fdh1." + payload). Nothing
 * is stored when a token is issued: the signature proves the platform made it, `exp` bounds its
 * life, and the store remembers spent `jti`s until they expire (single use).
 */
export interface EnrolmentTokenPayload {
  /** Token id, random; what single use is tracked by. */
  jti: string;
  /** Issued at, epoch ms. */
  iat: number;
  /** Expires at, epoch ms. */
  exp: number;
  /** If set, the agent that enrols with this token must use this name. */
  name?: string;
}

const PREFIX = 'fdh1';
const MIN_SECRET_BYTES = 32;

export type HubSecret = string | Uint8Array;

export function checkSecret(secret: HubSecret): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new ValidationError('WEAK_SECRET', `The hub secret must be at least ${MIN_SECRET_BYTES} bytes`, [
      { path: 'secret', code: 'WEAK_SECRET', message: `got ${bytes.length} bytes` },
    ]);
  }
  return bytes;
}

const sign = (secret: Buffer, body: string) =>
  createHmac('sha256', secret).update(`${PREFIX}.${body}`).digest('base64url');

export function issueEnrolmentToken(
  secret: Buffer,
  payload: Omit<EnrolmentTokenPayload, 'jti'> & { jti?: string },
): string {
  const full: EnrolmentTokenPayload = {
    jti: payload.jti ?? randomBytes(16).toString('base64url'),
    iat: payload.iat,
    exp: payload.exp,
  };
  if (payload.name !== undefined) full.name = payload.name;
  const body = Buffer.from(JSON.stringify(full)).toString('base64url');
  return `${PREFIX}.${body}.${sign(secret, body)}`;
}

const invalid = (why: string) =>
  new ForgeError(DialHomeCodes.TOKEN_INVALID, `The enrolment token is not valid: ${why}`, 'validation', {
    details: { reason: why },
  });

/** Checks signature and expiry (not single use: that needs the store). */
export function verifyEnrolmentToken(secret: Buffer, token: string, now: number): EnrolmentTokenPayload {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw invalid('not an fdh1 token');
  const [, body, sig] = parts as [string, string, string];
  const expected = Buffer.from(sign(secret, body));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('bad signature');
  let payload: EnrolmentTokenPayload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as EnrolmentTokenPayload;
  } catch {
    throw invalid('unreadable payload');
  }
  if (typeof payload.jti !== 'string' || typeof payload.exp !== 'number' || typeof payload.iat !== 'number')
    throw invalid('incomplete payload');
  if (now >= payload.exp) {
    throw new ForgeError(
      DialHomeCodes.TOKEN_EXPIRED,
      `The enrolment token expired at ${new Date(payload.exp).toISOString()}`,
      'validation',
      {
        details: { expiredAt: payload.exp },
      },
    );
  }
  return payload;
}
