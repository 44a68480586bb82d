/** Splits text into a few deltas (by words, at most ~8 pieces) so streaming is visible. */
export function splitDeltas(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [text];
  const per = Math.max(1, Math.ceil(words.length / 8));
  const out: string[] = [];
  for (let i = 0; i < words.length; i += per) out.push(words.slice(i, i + per).join(''));
  return out.length ? out : [''];
}
