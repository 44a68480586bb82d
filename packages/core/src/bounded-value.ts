/**
 * Bounds on what an event may carry. A tool input nested thousands deep parses, but `JSON.stringify` (SSE,
 * webhooks, gRPC, logs) then overflows the stack and the event is lost to every consumer; a graph with shared
 * children can be exponentially large once serialised. So events are bounded where they are built, and what
 * cannot be kept is replaced by a marked value rather than dropped.
 */
export const MAX_EVENT_DEPTH = 64;
/** Objects and arrays one event value may hold (a 1 MB tool input of small objects is well under). */
export const MAX_EVENT_NODES = 100_000;

/** What stands where a value was cut: `{ "$truncated": "depth>64" }` or `{ "$truncated": "nodes>100000" }`. */
export interface TruncatedValue {
  $truncated: string;
}

export interface BoundOptions {
  maxDepth?: number;
  maxNodes?: number;
}

/**
 * Nodes left in the walk under way. A module-level counter rather than an object passed down keeps the walk
 * cheap on the emit path; `boundValue` saves and restores it, so a getter that re-enters it cannot corrupt it.
 */
let nodesLeft = 0;
/** An object the walk under way looks out for (`boundValueMeeting`), and whether it met it. */
let watched: unknown;
let met = false;

/**
 * The value as it is when it is within the bounds (the common case: one walk, no copy); otherwise a copy in
 * which every object or array nested deeper than `maxDepth`, and every one past the first `maxNodes`, is a
 * TruncatedValue. Cycles end at the depth bound. Typed arrays and Buffers are kept whole (their size is their
 * own), as are objects with `toJSON` (Date) in a copy.
 */
export function boundValue(value: unknown, options?: BoundOptions): unknown {
  if (value === null || typeof value !== 'object') return value;
  return bound(value, options?.maxDepth ?? MAX_EVENT_DEPTH, options?.maxNodes ?? MAX_EVENT_NODES, undefined);
}

/**
 * `boundValue` with the default bounds that also says whether `part` (an object) lies, walked whole, inside a
 * `value` that was within the bounds: then `part` is within them too (it is no deeper and has no more nodes),
 * and need not be walked again. A tool event's `raw` usually holds its `input`: one walk instead of two.
 */
export function boundValueMeeting(value: unknown, part: unknown): { value: unknown; metPart: boolean } {
  const out = boundMeeting(value, part);
  return { value: out, metPart: lastMet };
}

/**
 * `boundValueMeeting` without the answer object (the emit path makes no garbage for it): whether `part` was met
 * is `metLast()` until the next call.
 */
export function boundMeeting(value: unknown, part: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    lastMet = false;
    return value;
  }
  return bound(value, MAX_EVENT_DEPTH, MAX_EVENT_NODES, part);
}

/** Whether the last `boundMeeting` found its value within the bounds and met the part it looked out for. */
export function metLast(): boolean {
  return lastMet;
}

/** Whether the last `bound` found its value within the bounds and met the part it looked out for. */
let lastMet = false;

function bound(value: object, maxDepth: number, maxNodes: number, part: unknown): unknown {
  const saved = nodesLeft;
  const savedWatched = watched;
  const savedMet = met;
  try {
    nodesLeft = maxNodes;
    watched = part;
    met = false;
    if (fits(value, 1, maxDepth)) {
      lastMet = met && part !== undefined;
      return value;
    }
    lastMet = false;
    nodesLeft = maxNodes;
    return copy(value, 1, maxDepth, maxNodes);
  } finally {
    nodesLeft = saved;
    watched = savedWatched;
    met = savedMet;
  }
}

function fits(value: object, depth: number, maxDepth: number): boolean {
  if (depth > maxDepth || --nodesLeft < 0) return false;
  if (value === watched) met = true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && !fits(item, depth + 1, maxDepth)) return false;
    }
    return true;
  }
  if (ArrayBuffer.isView(value)) return true;
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && !fits(item, depth + 1, maxDepth)) return false;
  }
  return true;
}

function copy(value: object, depth: number, maxDepth: number, maxNodes: number): unknown {
  if (depth > maxDepth) return { $truncated: `depth>${maxDepth}` } satisfies TruncatedValue;
  if (--nodesLeft < 0) return { $truncated: `nodes>${maxNodes}` } satisfies TruncatedValue;
  const child = (item: unknown) =>
    typeof item === 'object' && item !== null ? copy(item, depth + 1, maxDepth, maxNodes) : item;
  if (Array.isArray(value)) return value.map(child);
  if (ArrayBuffer.isView(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const out: Record<string, unknown> = {};
  for (const key in value) out[key] = child((value as Record<string, unknown>)[key]);
  return out;
}
