/**
 * JSON kept in `text` columns (migration 5), not `jsonb`: jsonb refuses `\u0000` and an unpaired
 * surrogate escape (`\ud800`), both of which a model's answer can hold, and would fail the write.
 * JSON.stringify escapes both, so its output is plain text PostgreSQL holds as it is, and
 * JSON.parse gives back exactly what was written.
 */
export const toJsonColumn = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/** A JSON column's value as written (a jsonb value some other writer left is taken as it is). */
export function fromJsonColumn<T>(v: unknown): T | undefined {
  if (v === null || v === undefined) return undefined;
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}
