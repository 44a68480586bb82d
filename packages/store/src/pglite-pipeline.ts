import { parse, protocol, type PGlite } from '@electric-sql/pglite';
import type { Row } from './sql.js';

/**
 * The messages as one buffer (the only one itself, no copy). Not core's `joinChunks`: this module runs in the
 * PGlite worker, and importing `@forge/core/internal` there loaded @forge/core into the worker's isolate (the
 * built package: a bare process opening a new data dir held 174–179 MB with it vs 156–158 MB without, load 9).
 */
const joined = (parts: Uint8Array[]): Uint8Array => (parts.length === 1 ? parts[0]! : Buffer.concat(parts));

/** A statement waiting in a batch, and where its rows (or its error) go. */
export interface PipelinedStatement {
  text: string;
  params: readonly unknown[];
  resolve: (rows: Row[]) => void;
  reject: (error: unknown) => void;
  /** Set once it was run again after PostgreSQL refused its cached plan (a schema change). */
  retried?: boolean;
}

interface Prepared {
  name: string;
  /** The parameters' type oids, as PostgreSQL inferred them: what PGlite's own serialisers need. */
  paramTypes: number[];
}

type Message = { name: string };

/** Statements kept prepared (by text). The platform sends a few dozen distinct texts; more are evicted oldest first. */
const MAX_PREPARED = 256;

const { serialize } = protocol;

/** The backend's messages cut at each ReadyForQuery: one segment per Sync sent. */
function segments(messages: readonly Message[]): Message[][] {
  const out: Message[][] = [];
  let current: Message[] = [];
  for (const m of messages) {
    current.push(m);
    if (m.name === 'readyForQuery') {
      out.push(current);
      current = [];
    }
  }
  return out;
}

type DbError = Error & { code?: string };

const errorIn = (segment: readonly Message[]) => segment.find((m) => m.name === 'error') as DbError | undefined;

/**
 * Runs batches of statements on PGlite in two calls into its WebAssembly at most, instead of six
 * per statement. `PGlite.query` sends Parse, Describe, Bind, Describe, Execute and Sync as six
 * calls, each re-entering PostgreSQL's main loop, and has every statement parsed and planned
 * again: ~0.6–1 ms of CPU for a one-row insert. Here a statement text is prepared once (Parse +
 * Describe under a name, kept in an LRU), and a batch's Bind/Execute/Sync go in one buffer: each
 * statement still runs in its own implicit transaction (a Sync each), so one failing does not undo
 * the others, exactly as separate `query` calls. Parameters are serialised by the type PostgreSQL
 * inferred for them with PGlite's own serialisers, and rows parsed with its parsers, so values
 * cross as they did through `query`.
 */
export class PglitePipeline {
  readonly #prepared = new Map<string, Prepared>();
  /** Prepared statements evicted (or whose preparation failed), closed at the start of the next call. */
  readonly #closing: string[] = [];
  #names = 0;

  constructor(private readonly db: PGlite) {}

  /** Runs `batch` in order, settling each statement's promise. Holds PGlite's locks for the whole batch. */
  run(batch: PipelinedStatement[]): Promise<void> {
    const db = this.db;
    return db._runExclusiveTransaction(() => db._runExclusiveQuery(() => this.#run(batch)));
  }

  async #run(batch: PipelinedStatement[]): Promise<void> {
    try {
      if (this.db.closed) throw new Error('PGlite is closed');
      const ready = await this.#prepare(batch);
      const retry = await this.#execute(ready);
      if (retry.length) await this.#run(retry);
    } catch (error) {
      // The call itself failed (PGlite closed or broken): every statement not settled yet gets it.
      for (const s of batch) s.reject(error);
    }
  }

  /** Prepares the texts of `batch` not prepared yet, in one call; returns the statements that can be executed. */
  async #prepare(batch: PipelinedStatement[]): Promise<Array<{ s: PipelinedStatement; p: Prepared }>> {
    const fresh: string[] = [];
    const names = new Map<string, string>();
    for (const s of batch) {
      const known = this.#prepared.get(s.text);
      if (known) {
        // Most recently used last: the Map's order is the LRU.
        this.#prepared.delete(s.text);
        this.#prepared.set(s.text, known);
      } else if (!names.has(s.text)) {
        names.set(s.text, `forge_${++this.#names}`);
        fresh.push(s.text);
      }
    }
    if (fresh.length || this.#closing.length) {
      const parts: Uint8Array[] = [];
      const closing = this.#closing.splice(0);
      for (const name of closing) parts.push(serialize.close({ type: 'S', name }));
      if (closing.length) parts.push(serialize.sync());
      for (const text of fresh) {
        const name = names.get(text)!;
        parts.push(serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync());
      }
      const { messages } = await this.db.execProtocol(joined(parts), { throwOnError: false, syncToFs: false });
      const replies = segments(messages);
      if (closing.length) replies.shift();
      const failed = new Map<string, unknown>();
      fresh.forEach((text, i) => {
        const reply = replies[i] ?? [];
        const error = errorIn(reply);
        const name = names.get(text)!;
        if (error || !reply.length) {
          failed.set(text, error ?? new Error('PGlite did not answer the statement'));
          // Parsed before the failure, it would hold its name: closing a name that does not exist is no error.
          this.#closing.push(name);
          return;
        }
        const described = reply.find((m) => m.name === 'parameterDescription') as { dataTypeIDs: number[] } | undefined;
        this.#prepared.set(text, { name, paramTypes: described?.dataTypeIDs ?? [] });
      });
      while (this.#prepared.size > MAX_PREPARED) {
        const [oldest, { name }] = this.#prepared.entries().next().value as [string, Prepared];
        this.#prepared.delete(oldest);
        this.#closing.push(name);
      }
      for (const s of batch) {
        const error = failed.get(s.text);
        if (error) s.reject(withQuery(error, s));
      }
      batch = batch.filter((s) => !failed.has(s.text));
    }
    return batch.map((s) => ({ s, p: this.#prepared.get(s.text) ?? { name: names.get(s.text)!, paramTypes: [] } }));
  }

  /** Executes prepared statements in one call; returns those to run again (their cached plan was refused). */
  async #execute(ready: Array<{ s: PipelinedStatement; p: Prepared }>): Promise<PipelinedStatement[]> {
    const parts: Uint8Array[] = [];
    const sent: typeof ready = [];
    for (const r of ready) {
      let values: Array<string | null>;
      try {
        values = this.#values(r.s.params, r.p.paramTypes);
      } catch (error) {
        r.s.reject(withQuery(error, r.s));
        continue;
      }
      parts.push(
        serialize.bind({ statement: r.p.name, values }),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
        serialize.sync(),
      );
      sent.push(r);
    }
    if (!sent.length) return [];
    const { messages } = await this.db.execProtocol(joined(parts), { throwOnError: false });
    const replies = segments(messages);
    const retry: PipelinedStatement[] = [];
    sent.forEach(({ s, p }, i) => {
      const reply = replies[i];
      const error: DbError | undefined = reply ? errorIn(reply) : new Error('PGlite did not answer the statement');
      if (error) {
        // A migration changed a table a cached `select *` reads: PostgreSQL refuses the old plan once; prepare it anew.
        if (error.code === '0A000' && !s.retried && /cached plan/.test(error.message)) {
          if (this.#prepared.get(s.text) === p) this.#prepared.delete(s.text);
          this.#closing.push(p.name);
          s.retried = true;
          retry.push(s);
        } else s.reject(withQuery(error, s));
        return;
      }
      s.resolve(
        parse.parseResults(reply as Parameters<typeof parse.parseResults>[0], this.db.parsers)[0]!.rows as Row[],
      );
    });
    return retry;
  }

  /** Parameters as text, each by its inferred type with PGlite's serialisers (what `PGlite.query` does). */
  #values(params: readonly unknown[], types: readonly number[]): Array<string | null> {
    const serializers = this.db.serializers;
    return params.map((param, i) => {
      if (param === null || param === undefined) return null;
      const serialize = serializers[types[i]!];
      return serialize ? serialize(param) : String(param);
    });
  }
}

/** As `PGlite.query` reports a failed statement: its text and parameters on the error. */
function withQuery(error: unknown, s: PipelinedStatement): unknown {
  if (error && typeof error === 'object') Object.assign(error, { query: s.text, params: s.params });
  return error;
}
