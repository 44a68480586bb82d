import type { AgentLogSource } from './agent-log-server.js';

export interface LogRing {
  /** Adds one line (without its line end); the oldest goes past `maxLines`. */
  append(line: string): void;
  /** What `dialHome({ logs })` takes: the last `tail` lines, then with `follow` each new one until `signal` aborts. */
  readonly source: AgentLogSource;
}

/**
 * A bounded ring of an agent program's log lines (its logger's output, its provider's stderr) for `dialHome`'s
 * `logs` option. In memory only: a log is a debugging aid, and a restart starting it afresh is fine.
 */
export function logRing(options: { maxLines?: number } = {}): LogRing {
  const max = options.maxLines ?? 5_000;
  let lines: string[] = [];
  let count = 0;
  const readers = new Set<() => void>();
  return {
    append(line) {
      lines.push(line);
      if (lines.length > max) lines = lines.slice(lines.length - max);
      count++;
      for (const wake of readers) wake();
    },
    async *source({ tail, follow, signal }) {
      let seen = count - Math.max(0, Math.min(tail, lines.length));
      let wake: (() => void) | undefined;
      const woken = () => wake?.();
      readers.add(woken);
      signal.addEventListener('abort', woken);
      try {
        for (;;) {
          while (seen < count && !signal.aborted) {
            // Lines dropped while this reader lagged are skipped.
            const first = count - lines.length;
            if (seen < first) seen = first;
            yield lines[seen - first]!;
            seen++;
          }
          if (!follow || signal.aborted) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      } finally {
        readers.delete(woken);
        signal.removeEventListener('abort', woken);
      }
    },
  };
}
