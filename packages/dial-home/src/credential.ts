import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Agent credentials: `fdhc1.<agentId>.<secret>`, the secret 32 random bytes (256 bits) in
 * base64url. The platform keeps SHA-256 of the whole string: with that much entropy a slow
 * password hash adds nothing, and a leaked store cannot be turned back into credentials.
 */
const PREFIX = 'fdhc1';

export function newAgentId(): string {
  return `agt_${randomBytes(12)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, 'x')}`;
}

export function newCredential(agentId: string): string {
  return `${PREFIX}.${agentId}.${randomBytes(32).toString('base64url')}`;
}

export function hashCredential(credential: string): string {
  return createHash('sha256').update(credential, 'utf8').digest('hex');
}

/** The agent id a credential names, or undefined when it is not one. */
export function credentialAgentId(credential: string): string | undefined {
  const parts = credential.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !parts[1] || !parts[2]) return undefined;
  return parts[1];
}

export function credentialMatches(credential: string, storedHash: string): boolean {
  const a = Buffer.from(hashCredential(credential), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
