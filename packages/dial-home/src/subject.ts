import { ValidationError } from '@forge/core';

/**
 * Subjects are NATS-style routing keys: tokens joined by ".", e.g. `agent.agt_1.run.run_7.event`.
 * Ids become tokens through `subjectToken`, which percent-escapes anything that would split a
 * token or read as a wildcard, so an id can never widen a subscription.
 */

const SAFE = /^[A-Za-z0-9_:-]+$/;

export function subjectToken(id: string): string {
  if (id !== '' && SAFE.test(id)) return id;
  let out = '';
  for (const byte of new TextEncoder().encode(id)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_:-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out === '' ? '%00' : out;
}

export function subjectTokenValue(token: string): string {
  return token === '%00' ? '' : decodeURIComponent(token);
}

export const subjects = {
  hello: (agentId: string) => `agent.${subjectToken(agentId)}.hello`,
  welcome: (agentId: string) => `agent.${subjectToken(agentId)}.welcome`,
  heartbeat: (agentId: string) => `agent.${subjectToken(agentId)}.heartbeat`,
  heartbeatAck: (agentId: string) => `agent.${subjectToken(agentId)}.heartbeat.ack`,
  ping: (agentId: string) => `agent.${subjectToken(agentId)}.ping`,
  pong: (agentId: string) => `agent.${subjectToken(agentId)}.pong`,
  online: (agentId: string) => `agent.${subjectToken(agentId)}.online`,
  offline: (agentId: string) => `agent.${subjectToken(agentId)}.offline`,
  revoked: (agentId: string) => `agent.${subjectToken(agentId)}.revoked`,
  terminal: (agentId: string, terminalId: string, kind: string) =>
    `agent.${subjectToken(agentId)}.terminal.${subjectToken(terminalId)}.${kind}`,
  logs: (agentId: string, streamId: string) => `agent.${subjectToken(agentId)}.logs.${subjectToken(streamId)}`,
  run: (agentId: string, runId: string, kind: RunSubjectKind) =>
    `agent.${subjectToken(agentId)}.run.${subjectToken(runId)}.${kind}`,
};

export type RunSubjectKind =
  | 'event'
  | 'execute'
  | 'cancel'
  | 'permission'
  | 'answer'
  | 'steer'
  | 'ack'
  | 'error'
  | 'session'
  | 'session_reply'
  | 'detach'
  | 'attach';

export interface ParsedSubject {
  agentId: string;
  runId?: string;
  /** The last token(s): `hello`, `heartbeat`, `event`… */
  kind: string;
}

/** Reads an `agent.<id>.…` subject; undefined when it is not one. */
export function parseSubject(subject: string): ParsedSubject | undefined {
  const t = subject.split('.');
  if (t.length < 3 || t[0] !== 'agent' || t.some((x) => x === '')) return undefined;
  const agentId = subjectTokenValue(t[1]!);
  if (t[2] === 'run') {
    if (t.length !== 5) return undefined;
    return { agentId, runId: subjectTokenValue(t[3]!), kind: t[4]! };
  }
  return { agentId, kind: t.slice(2).join('.') };
}

/** A compiled subscription pattern: `*` matches one token, a final `>` one or more. */
export type SubjectMatcher = (subject: string) => boolean;

export function compilePattern(pattern: string): SubjectMatcher {
  const tokens = pattern.split('.');
  const bad = (message: string) =>
    new ValidationError('INVALID_SUBJECT_PATTERN', `"${pattern}" is not a subject pattern: ${message}`, [
      { path: 'pattern', code: 'INVALID_SUBJECT_PATTERN', message },
    ]);
  if (tokens.some((t) => t === '')) throw bad('empty token');
  tokens.forEach((t, i) => {
    if (t === '>' && i !== tokens.length - 1) throw bad('">" must be the last token');
    if (t !== '>' && t !== '*' && /[*>\s]/.test(t)) throw bad(`"${t}" mixes a wildcard into a token`);
  });
  const tail = tokens[tokens.length - 1] === '>';
  const fixed = tail ? tokens.slice(0, -1) : tokens;
  if (!tail && !tokens.includes('*')) return (subject) => subject === pattern;
  return (subject) => {
    const s = subject.split('.');
    if (tail ? s.length <= fixed.length : s.length !== fixed.length) return false;
    for (let i = 0; i < fixed.length; i++) if (fixed[i] !== '*' && fixed[i] !== s[i]) return false;
    return true;
  };
}
