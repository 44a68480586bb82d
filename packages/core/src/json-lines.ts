/** Default cap on one line: far above any real message of a CLI, low enough to bound memory. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** A line that is not a JSON object: a warning or other text the CLI printed. */
export interface JsonLineText {
  kind: 'text';
  text: string;
}

/** A line longer than the cap: skipped, its size and first characters reported. */
export interface JsonLineOversize {
  kind: 'oversize';
  bytes: number;
  preview: string;
}

/**
 * A line holding a JSON object, typed as the CLI's own message. Unchecked: an object without a `type` is one
 * too (the mappers pass it on or log it as unmapped).
 */
export interface JsonLineObject<T> {
  kind: 'object';
  value: T;
}

/** What the parser finds on one line: a JSON object, text, or a line over the cap. */
export type JsonLineItem<T> = JsonLineObject<T> | JsonLineText | JsonLineOversize;

export interface JsonLinesOptions {
  /** Lines longer than this many bytes (UTF-8, without the newline) are skipped. Default 16 MiB. */
  maxLineBytes?: number;
}

const PREVIEW_CHARS = 200;

/** The cap, checked: adapters call this at construction so a bad option fails there, not on the first run. */
export function checkMaxLineBytes(max: number | undefined = DEFAULT_MAX_LINE_BYTES): number {
  if (!Number.isInteger(max) || max <= 0) throw new RangeError(`maxLineBytes must be a positive integer, got ${max}`);
  return max;
}

/**
 * An incremental, synchronous parser for a CLI's JSON-lines stdout (Claude Code's stream-json, `codex exec
 * --json`). Push chunks as they come (split anywhere, even inside a UTF-8 character), then `end()`; each
 * complete line goes to `onItem`. A line holding a JSON object becomes an `object` item, typed `T` (each CLI
 * adapter names its message type by a subclass: `StreamJsonParser`, `CodexJsonlParser`); blank lines are
 * skipped and a trailing `\r` (CRLF) is dropped.
 *
 * Chunks are decoded once each by a streaming TextDecoder and lines are cut with `indexOf` on the decoded
 * string, so a line costs a slice and a `JSON.parse`: the same work as splitting a whole buffer by hand. The
 * pieces of an unfinished line are kept in a list and joined once, so a long line in many small chunks stays
 * linear, and byte lengths are only computed when a line could be over the cap.
 */
export class JsonLinesParser<T> {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly maxLineBytes: number;
  /** Up to `maxLineBytes / 3` UTF-16 units, a line cannot exceed the cap in UTF-8. */
  private readonly safeChars: number;
  /** Pieces of the line not yet ended by a newline. */
  private carry: string[] = [];
  private carryChars = 0;
  /** UTF-8 size of `carry`, or -1 while it is too short to matter. */
  private carryBytes = -1;
  /** Bytes of a line already known to be over the cap; its rest is discarded up to the newline. */
  private skipping = -1;
  private skipPreview = '';

  constructor(
    private readonly onItem: (item: JsonLineItem<T>) => void,
    options: JsonLinesOptions = {},
  ) {
    this.maxLineBytes = checkMaxLineBytes(options.maxLineBytes);
    this.safeChars = Math.floor(this.maxLineBytes / 3);
  }

  push(chunk: Uint8Array | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (text.length > 0) this.feed(text);
  }

  /** Flushes a final line that had no newline (and any bytes of an unfinished character). */
  end(): void {
    const tail = this.decoder.decode();
    if (tail.length > 0) this.feed(tail);
    if (this.skipping >= 0) {
      this.reportOversize();
    } else if (this.carryChars > 0) {
      const line = this.carry.length === 1 ? this.carry[0]! : this.carry.join('');
      this.dropCarry();
      this.line(line);
    }
  }

  private feed(text: string): void {
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl === -1) {
      this.hold(text);
      return;
    }
    // The first line of this chunk completes whatever was carried over.
    if (this.skipping >= 0) {
      this.skipping += byteLength(text, 0, nl);
      if (this.skipPreview.length < PREVIEW_CHARS)
        this.skipPreview = (this.skipPreview + text.slice(0, Math.min(nl, PREVIEW_CHARS))).slice(0, PREVIEW_CHARS);
      this.reportOversize();
    } else if (this.carryChars > 0) {
      this.carry.push(text.slice(0, nl));
      const line = this.carry.join('');
      this.dropCarry();
      this.line(line);
    } else {
      this.line(text.slice(0, nl));
    }
    start = nl + 1;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    if (start < text.length) this.hold(start === 0 ? text : text.slice(start));
  }

  /** Keeps the unfinished end of a chunk, or starts skipping once it is over the cap. */
  private hold(piece: string): void {
    if (this.skipping >= 0) {
      this.skipping += byteLength(piece, 0, piece.length);
      if (this.skipPreview.length < PREVIEW_CHARS)
        this.skipPreview = (this.skipPreview + piece).slice(0, PREVIEW_CHARS);
      return;
    }
    this.carry.push(piece);
    this.carryChars += piece.length;
    // Bytes are counted only once the line could be over the cap, and then piece by piece.
    if (this.carryBytes >= 0) this.carryBytes += byteLength(piece, 0, piece.length);
    else if (this.carryChars > this.safeChars) {
      this.carryBytes = 0;
      for (const p of this.carry) this.carryBytes += byteLength(p, 0, p.length);
    }
    if (this.carryBytes > this.maxLineBytes) {
      let preview = '';
      for (const p of this.carry) {
        if (preview.length >= PREVIEW_CHARS) break;
        preview += p.slice(0, PREVIEW_CHARS - preview.length);
      }
      this.skipping = this.carryBytes;
      this.skipPreview = preview;
      this.dropCarry();
    }
  }

  private dropCarry(): void {
    this.carry = [];
    this.carryChars = 0;
    this.carryBytes = -1;
  }

  private reportOversize(): void {
    const bytes = this.skipping;
    const preview = this.skipPreview;
    this.skipping = -1;
    this.skipPreview = '';
    this.onItem({ kind: 'oversize', bytes, preview });
  }

  private line(raw: string): void {
    let line = raw;
    let end = line.length;
    if (end > 0 && line.charCodeAt(end - 1) === 13 /* \r */) {
      end--;
      line = line.slice(0, end);
    }
    if (end > this.safeChars) {
      const bytes = byteLength(line, 0, end);
      if (bytes > this.maxLineBytes) {
        this.onItem({ kind: 'oversize', bytes, preview: line.slice(0, PREVIEW_CHARS) });
        return;
      }
    }
    // Only an object can be one of the CLI's items; anything else is text it printed.
    let i = 0;
    let c = line.charCodeAt(0);
    while (c === 32 || c === 9) c = line.charCodeAt(++i);
    if (c === 123 /* { */) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        this.onItem({ kind: 'text', text: line });
        return;
      }
      this.onItem({ kind: 'object', value: value as T });
      return;
    }
    if (i >= end || isBlank(line, i)) return;
    this.onItem({ kind: 'text', text: line });
  }
}

function isBlank(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** UTF-8 length of `s[from, to)`, without encoding it. */
export function byteLength(s: string, from = 0, to = s.length): number {
  let n = to - from;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // a pair is 2 units and 4 bytes
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/** What `jsonLineItems` drives: a parser that hands its items to `onItem` (a `JsonLinesParser` or a subclass). */
export type JsonLinesParserFactory<I> = (onItem: (item: I) => void) => {
  push(chunk: Uint8Array | string): void;
  end(): void;
};

/**
 * A stream of stdout chunks (bytes or strings) as parsed items, incrementally. The iterator hands out items
 * already parsed without a fresh async step each, so iterating costs little more than the parse itself.
 */
export function jsonLineItems<I>(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  parser: JsonLinesParserFactory<I>,
): AsyncIterable<I> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<I> {
      let buffer: I[] = [];
      let head = 0;
      let done = false;
      const lines = parser((item) => buffer.push(item));
      const source = (
        Symbol.asyncIterator in chunks
          ? (chunks as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]()
          : toAsync((chunks as Iterable<Uint8Array | string>)[Symbol.iterator]())
      ) as AsyncIterator<Uint8Array | string>;
      const take = (): IteratorResult<I> => {
        const value = buffer[head]!;
        buffer[head++] = undefined as unknown as I;
        if (head === buffer.length) {
          buffer = [];
          head = 0;
        }
        return { value, done: false };
      };
      const fill = async (): Promise<IteratorResult<I>> => {
        while (head === buffer.length) {
          if (done) return { value: undefined, done: true };
          const r = await source.next();
          if (r.done) {
            done = true;
            lines.end();
          } else {
            lines.push(r.value);
          }
        }
        return take();
      };
      return {
        next() {
          return head < buffer.length ? Promise.resolve(take()) : fill();
        },
        async return() {
          done = true;
          buffer = [];
          head = 0;
          await source.return?.();
          return { value: undefined, done: true };
        },
      };
    },
  };
}

function toAsync<T>(it: Iterator<T>): AsyncIterator<T> {
  return { next: async () => it.next() };
}
