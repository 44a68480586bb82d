/**
 * Values core types as `unknown` cross the wire as JSON text. `undefined` stays unset, so it
 * comes back as `undefined` rather than `null`.
 */
export function toJsonText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.stringify(value);
  } catch {
    // BigInt or a cycle: keep what can be kept rather than fail the whole event.
    return JSON.stringify(String(value));
  }
}

/** The inverse of `toJsonText`; text that is not JSON (from a foreign client) is kept as a string. */
export function fromJsonText(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function fromJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  const value = fromJsonText(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
