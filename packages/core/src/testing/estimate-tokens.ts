/** A fake model's token count for a value: a quarter of its JSON length, at least 1 (as rough as the fakes need). */
export const estimateTokens = (value: unknown): number =>
  Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));
