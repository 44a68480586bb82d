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

/**
 * The value as it is when it is within the bounds (the common case: one walk, no copy); otherwise a copy in
 * which every object or array nested deeper than `maxDepth`, and every one past the first `maxNodes`, is a
 * TruncatedValue. Cycles end at the depth bound. Typed arrays and Buffers are kept whole (their size is their
 * own), as are objects with `toJSON` (Date) in a copy.
 */
export function boundValue(value: unknown, options: BoundOptions = {}): unknown {
  if (value === null || typeof value !== 'object') return value;
  const maxDepth = options.maxDepth ?? MAX_EVENT_DEPTH;
  const maxNodes = options.maxNodes ?? MAX_EVENT_NODES;
  const saved = nodesLeft;
  try {
    nodesLeft = maxNodes;
    if (fits(value, 1, maxDepth)) return value;
    nodesLeft = maxNodes;
    return copy(value, 1, maxDepth, maxNodes);
  } finally {
    nodesLeft = saved;
  }
}

function fits(value: object, depth: number, maxDepth: number): boolean {
  if (depth > maxDepth || --nodesLeft < 0) return false;
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
