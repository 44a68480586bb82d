import type { DrainOptions, DrainResult } from './agent-service-options.js';
import { ServingStatus } from './health.js';
import type { ServiceState } from './service-state.js';

/** Refuses new runs, lets live ones finish or cancels them, and ends idle streams. Idempotent. */
export function drainRuns(state: ServiceState, opts: DrainOptions = {}): Promise<DrainResult> {
  if (state.drainPromise) return state.drainPromise;
  state.draining = true;
  state.health.setAll(ServingStatus.NOT_SERVING);
  for (const end of state.idleEnders) end();
  const graceful = opts.graceful ?? true;
  const graceMs = graceful ? (opts.graceMs ?? state.defaultGraceMs) : 0;
  state.drainPromise = (async () => {
    const runs = [...state.live.values()];
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (graceMs > 0 && runs.length) {
      await Promise.race([
        Promise.all(runs.map((r) => r.done)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    const remaining = [...state.live.values()];
    if (remaining.length)
      state.logger.info('cancelling runs still live after the grace period', { runs: remaining.length, graceMs });
    await Promise.all(
      remaining.map(async (r) => {
        await r.run.cancel('the agent is shutting down');
        await r.done;
      }),
    );
    state.health.close();
    return { finished: runs.length - remaining.length, cancelled: remaining.length };
  })();
  return state.drainPromise;
}
