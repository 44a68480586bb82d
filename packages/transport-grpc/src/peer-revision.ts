import type { Clock } from '@forge/core';

/**
 * The server's `protocol_revision`, asked with GetStatus when a request first needs it and kept for `ttlMs` (a
 * server behind one address can be replaced by an older one). Undefined when the server could not be asked;
 * that answer is not kept.
 */
export class PeerRevision {
  private known: { value: Promise<number | undefined>; at: number } | undefined;

  constructor(
    private readonly ask: () => Promise<number>,
    private readonly clock: Clock,
    private readonly ttlMs = 60_000,
  ) {}

  get(): Promise<number | undefined> {
    const now = this.clock.now();
    if (this.known && now - this.known.at <= this.ttlMs) return this.known.value;
    const value = this.ask().then(
      (revision) => revision,
      () => undefined,
    );
    const entry = { value, at: now };
    this.known = entry;
    void value.then((v) => {
      if (v === undefined && this.known === entry) this.known = undefined;
    });
    return value;
  }
}
