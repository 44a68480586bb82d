import { EVENT_PROPERTIES, type EventProperties, type MappedEventType } from './schemas.js';

/*
 * Reading an OpenCode `GET /event` frame without JSON.parse where its shape allows: most frames of a
 * busy server are about other sessions or are repeats, and one per streamed token is a delta.
 * Every function here answers "don't know" (undefined / false) on any surprise, and the caller
 * falls back to the full parse.
 */

/** Mapped types, each followed by its closing quote, so `session.idle"` cannot match `session.idle.x"`. */
const PEEKABLE = (Object.keys(EVENT_PROPERTIES) as MappedEventType[]).map((type) => [type, `${type}"`] as const);

/**
 * The event type read off the envelope without parsing or slicing it, when the frame has OpenCode's
 * usual shape (`{"id":"evt_…","type":"…",…` or `{"type":"…",…`): one of the mapped types, or
 * `'other'` for any other type; undefined means "parse to find out".
 */
export function peekType(data: string): MappedEventType | 'other' | undefined {
  let at: number;
  if (data.startsWith('{"type":"')) at = 9;
  else if (data.startsWith('{"id":"')) {
    const i = data.indexOf('","type":"', 7);
    if (i < 0 || i > 64) return undefined;
    at = i + 10;
  } else return undefined;
  for (const [type, quoted] of PEEKABLE) if (data.startsWith(quoted, at)) return type;
  return 'other';
}

/*
 * Frames a turn provably does not need, told apart by structural substrings. A quote inside a
 * JSON string is escaped (\"), so `"role":"user"` can only match a real key and value.
 */
export function isSkippableFrame(type: MappedEventType | 'other', data: string): boolean {
  if (type === 'other' || type === 'permission.replied') return true; // session.updated, file.*, …
  // OpenCode sends an empty session.diff at every step.
  if (type === 'session.diff') return data.endsWith('"diff":[]}}');
  if (type === 'message.part.updated') {
    // The first `"type":"` inside the part is the part's own (nested objects come after it).
    const at = data.indexOf('"part":{');
    if (at < 0) return false;
    const partType = valueAfter(data, '"type":"', at);
    return partType !== undefined && partType !== 'text' && partType !== 'tool' && partType !== 'reasoning';
  }
  // User messages matter only through their parts, which carry no time and are skipped anyway.
  if (type === 'message.updated') {
    const at = data.indexOf('"info":{');
    return at >= 0 && valueAfter(data, '"role":"', at) === 'user';
  }
  return false;
}

/** The plain (escape-free) string value that follows `key`, e.g. an id. */
export function valueAfter(data: string, key: string, from = 0): string | undefined {
  if (from < 0) return undefined;
  const at = data.indexOf(key, from);
  if (at < 0) return undefined;
  const start = at + key.length;
  const end = data.indexOf('"', start);
  if (end < 0 || end - start > 128) return undefined;
  const value = data.slice(start, end);
  return value.includes('\\') ? undefined : value;
}

export function sessionOf(properties: unknown): string | undefined {
  if (typeof properties !== 'object' || properties === null) return undefined;
  const p = properties as { sessionID?: unknown; part?: { sessionID?: unknown }; info?: { sessionID?: unknown } };
  const id = p.sessionID ?? p.part?.sessionID ?? p.info?.sessionID;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The most frequent frame (one per streamed token) read without JSON.parse when it has the server's
 * usual key order: `deltaHead` is the frame's fixed start up to the message id (see `deltaFrameHead`).
 * Undefined = not this layout, parse it.
 */
export function decodeDeltaFrame(
  data: string,
  deltaHead: string,
  sessionId: string,
): EventProperties<'message.part.delta'> | undefined {
  // One forward pass over the fixed layout; any surprise hands the frame to the full parse.
  let at = data.indexOf(deltaHead);
  if (at < 0) return undefined;
  at += deltaHead.length;
  const messageEnd = data.indexOf('"', at);
  if (messageEnd < 0) return undefined;
  const messageId = data.slice(at, messageEnd);
  if (!data.startsWith('","partID":"', messageEnd)) return undefined;
  at = messageEnd + 12;
  const partEnd = data.indexOf('"', at);
  if (partEnd < 0 || !data.startsWith('","field":"text","delta":"', partEnd) || !data.endsWith('"}}')) return undefined;
  const partId = data.slice(at, partEnd);
  let delta = data.slice(partEnd + 26, data.length - 3);
  if (delta.indexOf('\\') >= 0) {
    try {
      delta = JSON.parse(`"${delta}"`) as string;
    } catch {
      return undefined;
    }
  } else if (delta.indexOf('"') >= 0) return undefined;
  return { sessionID: sessionId, messageID: messageId, partID: partId, field: 'text', delta };
}

/** The fixed start of a delta frame of `sessionId`, up to its message id (computed once per turn). */
export function deltaFrameHead(sessionId: string): string {
  return `"type":"message.part.delta","properties":{"sessionID":"${sessionId}","messageID":"`;
}

/** A `busy` or `idle` session.status of `sessionId` read without a parse; undefined for anything else (`retry`). */
export function peekStatus(data: string, sessionId: string): 'busy' | 'idle' | undefined {
  if (!data.endsWith('"status":{"type":"busy"}}}') && !data.endsWith('"status":{"type":"idle"}}}')) return undefined;
  if (valueAfter(data, '"properties":{"sessionID":"') !== sessionId) return undefined;
  return data.endsWith('"busy"}}}') ? 'busy' : 'idle';
}

/** The id of a message.updated frame whose message is still in progress (not completed, no error). */
export function peekInProgressMessageId(data: string): string | undefined {
  // The first `"time":{` of the info is its own; an error always comes with time.completed.
  const time = data.indexOf('"time":{', data.indexOf('"info":{'));
  if (time < 0 || data.slice(time, time + 64).includes('"completed"')) return undefined;
  const id = valueAfter(data, '"id":"msg_');
  return id === undefined ? undefined : `msg_${id}`;
}

/** The call id of a message.part.updated frame of a tool part still pending or running. */
export function peekRunningToolCallId(data: string): string | undefined {
  const status = valueAfter(data, '"status":"', data.indexOf('"state":{'));
  if (status !== 'running' && status !== 'pending') return undefined;
  return valueAfter(data, '"callID":"');
}
