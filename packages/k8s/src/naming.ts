import { createHash } from 'node:crypto';
import { ValidationError, type ValidationIssue } from '@forge/core';
import type { PodId } from './pod-manager-types.js';

/** Longest id accepted. Ids live in annotations (no length limit), but a bound keeps pod objects sane. */
export const MAX_ID_LENGTH = 253;

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Control characters and lone surrogates cannot round-trip through JSON / YAML tooling unchanged.
const UNREPRESENTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function idIssues(value: unknown, path: string): ValidationIssue[] {
  if (typeof value !== 'string') return [{ path, code: 'invalid_type', message: `${path} must be a string` }];
  if (value.length === 0) return [{ path, code: 'too_small', message: `${path} must not be empty` }];
  if (value.length > MAX_ID_LENGTH)
    return [{ path, code: 'too_big', message: `${path} is longer than ${MAX_ID_LENGTH} characters` }];
  if (value.trim() !== value)
    return [{ path, code: 'invalid_string', message: `${path} must not start or end with whitespace` }];
  if (UNREPRESENTABLE.test(value))
    return [{ path, code: 'invalid_string', message: `${path} contains control characters or unpaired surrogates` }];
  return [];
}

/** Rejects ids that cannot be carried faithfully; never rewrites them. */
export function validatePodId(id: unknown): PodId {
  if (typeof id !== 'object' || id === null) {
    throw new ValidationError('INVALID_POD_ID', 'A pod id must be an object { userId, agentId }', [
      { path: '', code: 'invalid_type', message: 'expected { userId, agentId }' },
    ]);
  }
  const { userId, agentId } = id as Partial<PodId>;
  const issues = [...idIssues(userId, 'userId'), ...idIssues(agentId, 'agentId')];
  if (issues.length)
    throw new ValidationError('INVALID_POD_ID', `Invalid pod id: ${issues.map((i) => i.message).join('; ')}`, issues);
  return { userId: userId as string, agentId: agentId as string };
}

export function validateUserId(userId: unknown): string {
  const issues = idIssues(userId, 'userId');
  if (issues.length) throw new ValidationError('INVALID_USER_ID', `Invalid user id: ${issues[0]!.message}`, issues);
  return userId as string;
}

/** Stable, lower-case base-32 digest: collision-free for practical purposes and valid in names and labels. */
export function stableHash(parts: readonly string[], length: number): string {
  // JSON keeps ("a-b","c") and ("a","b-c") apart.
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= length) break;
  }
  return out;
}

/** Lower-case DNS-1123 fragment of an id, for humans reading `kubectl get pods`; may be empty. */
export function slug(value: string, max: number): string {
  return value
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
}

/** A label value for humans; the hash labels are what selectors use. */
export function labelValue(value: string): string {
  if (LABEL_VALUE.test(value) && value.length <= 63) return value;
  const cleaned = value
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, 54)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return `${cleaned}${cleaned ? '-' : ''}${stableHash([value], 8)}`;
}

export function isValidLabelPrefix(prefix: string): boolean {
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix);
}

export function isValidNamePrefix(prefix: string): boolean {
  return prefix.length <= 20 && DNS_LABEL.test(prefix);
}

export interface PodNaming {
  podName(id: PodId): string;
  userHash(userId: string): string;
  agentHash(id: PodId): string;
}

/**
 * Pod names are `<prefix>-<user slug>-<agent slug>-<hash>`, at most 63 characters (a DNS label, so the name
 * also works as a hostname). The readable parts may collide or be empty; the 16-character hash of the exact
 * (userId, agentId) pair (80 bits) is what makes the name unique, so two users never share a pod.
 */
export function podNaming(namePrefix: string): PodNaming {
  return {
    podName(id) {
      const hash = stableHash(['pod', id.userId, id.agentId], 16);
      const room = 63 - namePrefix.length - hash.length - 3;
      const userPart = slug(id.userId, Math.floor(room / 2));
      const agentPart = slug(id.agentId, room - userPart.length);
      return [namePrefix, userPart, agentPart, hash].filter(Boolean).join('-');
    },
    userHash: (userId) => stableHash(['user', userId], 32),
    agentHash: (id) => stableHash(['agent', id.userId, id.agentId], 32),
  };
}
