import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sseFrames } from '../testing/sse.js';
import type { SessionMessage } from '../schemas.js';

export type Recording =
  | 'tool-prompt-async'
  | 'permission'
  | 'abort-streaming'
  | 'error-400'
  | 'question'
  | 'question-reject'
  | 'todo-write'
  | 'edit-write'
  | 'task-subagent'
  | 'structured-output'
  | 'apply-patch';

export function recordedFrames(name: Recording): string[] {
  const file = fileURLToPath(new URL(`../__fixtures__/${name}.sse`, import.meta.url));
  return sseFrames(readFileSync(file, 'utf8'));
}

/** The session a recording is about (from its `session.created`). */
export function recordedSession(frames: readonly string[]): string {
  for (const f of frames) {
    const e = JSON.parse(f) as { type: string; properties: { sessionID?: string } };
    if (e.type === 'session.created' && e.properties.sessionID) return e.properties.sessionID;
  }
  throw new Error('no session.created in the recording');
}

/**
 * What `GET /session/:id/message` would answer after the given frames: the latest info of each
 * message and the latest state of each part.
 */
export function messagesAfter(frames: readonly string[], sessionId: string): SessionMessage[] {
  const infos = new Map<string, SessionMessage['info']>();
  const parts = new Map<string, Map<string, SessionMessage['parts'][number]>>();
  for (const f of frames) {
    const e = JSON.parse(f) as { type: string; properties: Record<string, any> };
    const p = e.properties;
    if (e.type === 'message.updated' && p.info.sessionID === sessionId) {
      infos.set(p.info.id, p.info);
      if (!parts.has(p.info.id)) parts.set(p.info.id, new Map());
    } else if (e.type === 'message.part.updated' && p.part.sessionID === sessionId) {
      if (!parts.has(p.part.messageID)) parts.set(p.part.messageID, new Map());
      parts.get(p.part.messageID)!.set(p.part.id, structuredClone(p.part));
    }
    // Deltas are not folded in: like the real server, a stored part holds its streamed text only
    // once it ends (its last `message.part.updated`).
  }
  return [...infos.values()]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((info) => ({ info, parts: [...(parts.get(info.id)?.values() ?? [])] }));
}
