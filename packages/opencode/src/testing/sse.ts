/** Splits a recorded `.sse` file into the JSON payloads of its `data:` frames. */
export function sseFrames(recorded: string): string[] {
  return recorded
    .split(/\n\n+/)
    .map((frame) => frame.trim())
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length));
}

/** Payloads back into an SSE body, the way `opencode serve` writes it (data lines only). */
export function sseBody(payloads: readonly (string | object)[]): string {
  return payloads.map((p) => `data: ${typeof p === 'string' ? p : JSON.stringify(p)}\n\n`).join('');
}
