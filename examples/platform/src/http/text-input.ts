import { ValidationError } from '@forge/core';
import { UNPRINTABLE } from './identifiers.js';

/** A UTF-16 half without its pair: no UTF-8 encoding (and so no database, no JSON on the wire) can carry it. */
const LONE_SURROGATE = /\p{Cs}/u;

interface BadText {
  path: string;
  problem: string;
}

/** The first string or key in a JSON value that holds a lone surrogate or a NUL, with its path (`answers.0.1`). */
function findBadText(value: unknown, path: string): BadText | undefined {
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) return { path, problem: 'a lone surrogate (not valid Unicode)' };
    if (value.includes('\u0000')) return { path, problem: 'a NUL character' };
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const bad = findBadText(key, at) ?? findBadText(item, at);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * Refuses a body with a lone surrogate or a NUL in any string (or key): 400, INVALID_INPUT unless `codes` names
 * the top-level field's own code. Neither can be stored (PostgreSQL text and jsonb refuse them) nor passed to an
 * agent's process; free text such as `content` is refused too rather than silently changed.
 */
export function refuseBadText(body: Record<string, unknown>, codes: Record<string, string> = {}): void {
  const bad = findBadText(body, '');
  if (!bad) return;
  const code = codes[bad.path.split('.')[0]!] ?? 'INVALID_INPUT';
  // The path is shown, not the text: the key itself may be what is bad.
  const shown = bad.path.replace(new RegExp(UNPRINTABLE.source, 'gu'), '\ufffd').slice(0, 200);
  const message = `${shown} must not contain ${bad.problem}`;
  throw new ValidationError(code, message, [{ path: shown, code, message }]);
}
