/** The longest queued statements may hold the event loop before it turns. */
const MAX_HOLD_MS = 10;

/**
 * One database's statements, one at a time, with the event loop let through between them once they
 * have held it for MAX_HOLD_MS. PGlite answers a statement synchronously in WebAssembly and hands
 * its lock to the next waiting statement in a microtask, so a queue of statements (a thousand runs
 * journaling) ran back to back without the event loop ever turning: timers, sockets and SSE
 * readers waited seconds (event-loop delay p99 3.2 s at 1,000 concurrent runs). Queued here
 * instead, statement after statement, a turn is taken when due.
 */
export class LoopTurns {
  #tail: Promise<unknown> = Promise.resolve();
  #heldSince = performance.now();

  #queued = 0;

  constructor(private readonly maxHoldMs = MAX_HOLD_MS) {}

  next<T>(statement: () => Promise<T>): Promise<T> {
    // Nothing queued: the loop has been free since the last statement; the hold starts now.
    if (this.#queued++ === 0) this.#heldSince = performance.now();
    const run = this.#tail.then(async () => {
      if (performance.now() - this.#heldSince >= this.maxHoldMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.#heldSince = performance.now();
      }
      return statement();
    });
    this.#tail = run.then(
      () => this.#queued--,
      () => this.#queued--,
    );
    return run;
  }
}
