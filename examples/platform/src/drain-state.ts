/**
 * Whether this platform instance is draining (SIGTERM: it turns not-ready, claims nothing new, hands over or
 * finishes what it runs, then stops). One per instance, read by the readiness check and the run manager.
 */
export class DrainState {
  #since: number | undefined;

  get draining(): boolean {
    return this.#since !== undefined;
  }

  /** When draining began (epoch ms), if it has. */
  get since(): number | undefined {
    return this.#since;
  }

  /** Starts draining; false when it already had. */
  begin(now = Date.now()): boolean {
    if (this.#since !== undefined) return false;
    this.#since = now;
    return true;
  }
}
