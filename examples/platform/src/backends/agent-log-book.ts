import type { AgentLogsOptions } from './backend.js';

export interface AgentLogBookOptions {
  /** Lines kept per agent, across its runs (the oldest go first). Default 5,000. */
  maxLines?: number;
  /** A longer line is cut here (a CLI dumping a whole file on stderr must not fill the book). Default 8 KiB. */
  maxLineLength?: number;
  /** Agents with a log at once; the one written to least recently is forgotten first. Default 1,000. */
  maxAgents?: number;
}

interface Ring {
  lines: string[];
  /** Open `follow` readers, each woken on a new line. */
  readers: Set<() => void>;
  /** Lines ever appended: a reader's position survives the ring dropping old ones. */
  count: number;
  forgotten?: boolean;
}

/**
 * Per-agent bounded rings of log lines (their programs' stderr, teed by stderrTeeRunner), kept in memory
 * across runs: what `GET /agents/:id/logs` reads on the local backend. Nothing is kept on disk: a log is a
 * debugging aid, and a restart starting it afresh is fine.
 */
export class AgentLogBook {
  readonly #rings = new Map<string, Ring>();
  readonly #maxLines: number;
  readonly #maxLineLength: number;
  readonly #maxAgents: number;

  constructor(options: AgentLogBookOptions = {}) {
    this.#maxLines = options.maxLines ?? 5_000;
    this.#maxLineLength = options.maxLineLength ?? 8_192;
    this.#maxAgents = options.maxAgents ?? 1_000;
  }

  #ring(key: string): Ring {
    let ring = this.#rings.get(key);
    if (ring) {
      // Map order is the eviction order: touched last, forgotten last.
      this.#rings.delete(key);
    } else {
      ring = { lines: [], readers: new Set(), count: 0 };
      if (this.#rings.size >= this.#maxAgents) {
        const oldest = [...this.#rings].find(([, r]) => r.readers.size === 0);
        if (oldest) this.#rings.delete(oldest[0]);
      }
    }
    this.#rings.set(key, ring);
    return ring;
  }

  append(key: string, line: string): void {
    const ring = this.#ring(key);
    ring.lines.push(line.length > this.#maxLineLength ? `${line.slice(0, this.#maxLineLength)}…` : line);
    if (ring.lines.length > this.#maxLines) ring.lines.splice(0, ring.lines.length - this.#maxLines);
    ring.count++;
    for (const wake of ring.readers) wake();
  }

  /** The agent's lines: the last `tail`, then with `follow` each new one until `signal` aborts. */
  async *read(key: string, options: AgentLogsOptions): AsyncGenerator<string> {
    const ring = this.#rings.get(key) ?? (options.follow ? this.#ring(key) : undefined);
    if (!ring) return;
    const tail = Math.max(0, Math.min(options.tail, ring.lines.length));
    let seen = ring.count - tail;
    const { signal } = options;
    let wake: (() => void) | undefined;
    const woken = () => wake?.();
    ring.readers.add(woken);
    signal.addEventListener('abort', woken);
    try {
      for (;;) {
        while (seen < ring.count) {
          if (signal.aborted || ring.forgotten) return;
          // Lines dropped from the ring while this reader lagged are skipped, never waited for.
          const first = ring.count - ring.lines.length;
          if (seen < first) seen = first;
          yield ring.lines[seen - first]!;
          seen++;
        }
        if (!options.follow || signal.aborted || ring.forgotten) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      ring.readers.delete(woken);
      signal.removeEventListener('abort', woken);
    }
  }

  /** The agent was deleted: its lines go, and its followers end. */
  forget(key: string): void {
    const ring = this.#rings.get(key);
    this.#rings.delete(key);
    if (!ring) return;
    ring.lines = [];
    ring.forgotten = true;
    for (const wake of ring.readers) wake();
  }
}
