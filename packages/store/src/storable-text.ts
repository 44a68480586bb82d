/**
 * PostgreSQL text cannot hold a NUL (`invalid byte sequence for encoding "UTF8": 0x00`), and a lone
 * UTF-16 surrogate has no UTF-8 form (the drivers send U+FFFD: silently lost). A model's answer, a
 * prompt or an agent's Hello can carry either, so every string crosses the database boundary
 * escaped: each NUL, lone surrogate and ESCAPE itself becomes ESCAPE plus four hex digits of the
 * code unit. The mapping is one-to-one, so equality in SQL (`where request_id = $1`) is unchanged,
 * and it never adds a newline or a comma (the journal's separators). ESCAPE is U+0001 because
 * JSON.stringify never emits it raw: the journal's JSON bodies cross untouched, at the cost of one
 * scan.
 */
const ESCAPE = '\u0001';

/** Anything that may need escaping: a NUL, ESCAPE, or any surrogate (paired ones are kept, see below). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and ESCAPE are what it looks for
const SUSPECT = /[\u0000\u0001\ud800-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and ESCAPE are what it escapes
const UNSAFE = /[\u0000\u0001]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const hex = (unit: string) => ESCAPE + unit.charCodeAt(0).toString(16).padStart(4, '0');

/** `s` as PostgreSQL text can hold it. */
export function toStorable(s: string): string {
  return SUSPECT.test(s) ? s.replace(UNSAFE, hex) : s;
}

/** The string `toStorable` was given. */
export function fromStorable(s: string): string {
  if (!s.includes(ESCAPE)) return s;
  // Every ESCAPE is followed by its four hex digits (toStorable escapes ESCAPE itself).
  const parts = s.split(ESCAPE);
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    parts[i] = String.fromCharCode(Number.parseInt(p.slice(0, 4), 16)) + p.slice(4);
  }
  return parts.join('');
}

/** Query parameters with every string escaped, in arrays too (`$1::text[]`). */
export function storableParams(params: readonly unknown[]): unknown[] {
  return params.map(storableValue);
}

function storableValue(v: unknown): unknown {
  if (typeof v === 'string') return toStorable(v);
  if (Array.isArray(v)) return v.map(storableValue);
  return v;
}

/** Rows with every string column read back as it was written (in place: rows are fresh from the driver). */
export function readableRows<T extends Record<string, unknown>>(rows: T[]): T[] {
  for (const row of rows) {
    const r = row as Record<string, unknown>;
    for (const k in r) {
      const v = r[k];
      if (typeof v === 'string') r[k] = fromStorable(v);
      else if (Array.isArray(v)) r[k] = v.map((x) => (typeof x === 'string' ? fromStorable(x) : x));
    }
  }
  return rows;
}
