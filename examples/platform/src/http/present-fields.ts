/**
 * The fields that have a value: a copy of `fields` without those that are undefined or the empty string (0,
 * false and null stay). The API's JSON leaves an absent optional field out rather than sending it empty.
 */
export function presentFields<T extends Record<string, unknown>>(fields: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}
