/** Default cap on one JSONL line: far above any real event, low enough to bound memory. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** One native event of `codex exec --json` (a JSON object with a `type`). */
export interface CodexEvent {
  type: string;
  [key: string]: unknown;
}

/**
 * What the parser finds on one line: an event, a line that is not a JSON object (something the
 * CLI printed), or a line longer than the cap (skipped, its size reported).
 */
export type CodexJsonlItem =
  | { kind: 'event'; event: CodexEvent }
  | { kind: 'text'; text: string }
  | { kind: 'oversize'; bytes: number; preview: string };

export interface CodexJsonlOptions {
  /** Lines longer than this many bytes (UTF-8, without the newline) are skipped. Default 16 MiB. */
  maxLineBytes?: number;
}

const PREVIEW_CHARS = 200;

/**
 * An incremental, synchronous JSONL parser for `codex exec --json` stdout. Push chunks as they
 * come (split anywhere, even inside a UTF-8 character), then `end()`; each complete line goes to
 * `onItem`. Blank lines are skipped, a trailing `\r` is dropped.
 *
 * Each chunk is decoded once by a streaming TextDecoder and cut with `indexOf`, so a line costs a
 * slice and a `JSON.parse`: the same work as a bare split. The pieces of an unfinished line are
 * kept in a list and joined once, so a long line arriving in many small chunks stays linear.
 */
export class CodexJsonlParser {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly maxLineBytes: number;
  /** Up to this many UTF-16 units a line cannot exceed the cap in UTF-8 (3 bytes per unit at most). */
  private readonly safeChars: number;
  private carry: string[] = [];
  private carryChars = 0;
  /** UTF-8 size of `carry`, or -1 while it is too short to matter. */
  private carryBytes = -1;
  /** Bytes of a line already over the cap, whose rest is discarded up to its newline; -1 when none. */
  private skipping = -1;
  private skipPreview = '';

  constructor(
    private readonly onItem: (item: CodexJsonlItem) => void,
    options: CodexJsonlOptions = {},
  ) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(max) || max <= 0) throw new RangeError(`maxLineBytes must be a positive integer, got ${max}`);
    this.maxLineBytes = max;
    this.safeChars = Math.floor(max / 3);
  }

  push(chunk: Uint8Array | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (text.length > 0) this.feed(text);
  }

  /** Flushes a last line without a newline (and the bytes of an unfinished character). */
  end(): void {
    const tail = this.decoder.decode();
    if (tail.length > 0) this.feed(tail);
    if (this.skipping >= 0) this.reportSkipped();
    else if (this.carryChars > 0) this.line(this.takeCarry(''));
  }

  private feed(text: string): void {
    let nl = text.indexOf('\n');
    if (nl === -1) {
      this.hold(text);
      return;
    }
    // The first line of the chunk finishes whatever was carried over.
    if (this.skipping >= 0) {
      this.skipping += byteLength(text.slice(0, nl));
      this.reportSkipped();
    } else if (this.carryChars > 0) {
      this.line(this.takeCarry(text.slice(0, nl)));
    } else {
      this.line(text.slice(0, nl));
    }
    let start = nl + 1;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    if (start < text.length) this.hold(text.slice(start));
  }

  private hold(piece: string): void {
    if (this.skipping >= 0) {
      this.skipping += byteLength(piece);
      return;
    }
    this.carry.push(piece);
    this.carryChars += piece.length;
    // Bytes are counted only once the line could be over the cap, then piece by piece.
    if (this.carryBytes >= 0) this.carryBytes += byteLength(piece);
    else if (this.carryChars > this.safeChars) {
      this.carryBytes = 0;
      for (const p of this.carry) this.carryBytes += byteLength(p);
    }
    if (this.carryBytes > this.maxLineBytes) {
      const bytes = this.carryBytes;
      this.skipPreview = this.takeCarry('').slice(0, PREVIEW_CHARS);
      this.skipping = bytes;
    }
  }

  private takeCarry(last: string): string {
    const line = this.carry.length === 1 && last === '' ? this.carry[0]! : this.carry.join('') + last;
    this.carry = [];
    this.carryChars = 0;
    this.carryBytes = -1;
    return line;
  }

  private reportSkipped(): void {
    const item: CodexJsonlItem = { kind: 'oversize', bytes: this.skipping, preview: this.skipPreview };
    this.skipping = -1;
    this.skipPreview = '';
    this.onItem(item);
  }

  private line(raw: string): void {
    const line = raw.length > 0 && raw.charCodeAt(raw.length - 1) === 13 /* \r */ ? raw.slice(0, -1) : raw;
    if (line.length > this.safeChars) {
      const bytes = byteLength(line);
      if (bytes > this.maxLineBytes) {
        this.onItem({ kind: 'oversize', bytes, preview: line.slice(0, PREVIEW_CHARS) });
        return;
      }
    }
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
      // An object without a string `type` still goes on: the mapper logs it as unmapped.
      this.onItem({ kind: 'event', event: value as CodexEvent });
      return;
    }
    if (line.trim().length === 0) return;
    this.onItem({ kind: 'text', text: line });
  }
}

/** UTF-8 length of a string, without encoding it. */
export function byteLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // a surrogate pair: 2 units, 4 bytes
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/** Parses chunks (bytes or strings) into items, incrementally; for tests and tools. */
export function parseCodexJsonl(
  chunks: Iterable<Uint8Array | string>,
  options: CodexJsonlOptions = {},
): CodexJsonlItem[] {
  const out: CodexJsonlItem[] = [];
  const parser = new CodexJsonlParser((item) => out.push(item), options);
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return out;
}
