import { handOver } from './run-handover.js';
import type { RunContext } from './run-context.js';

export interface DrainReport {
  /** Runs let go of for another instance to adopt (they go on at their agents). */
  handedOver: number;
  /** Runs that ended here within the drain period. */
  finished: number;
  /** Runs still going here when it ran out (close cancels them). */
  left: number;
}

/**
 * Hands over what can go on without this instance, and gives the rest up to `drainMs` to end here.
 * The caller has stopped claiming (the drain flag) before.
 */
export async function drainRuns(ctx: RunContext, drainMs: number): Promise<DrainReport> {
  const live = [...ctx.live.values()];
  const handed = await Promise.all(live.map((l) => handOver(ctx, l)));
  const local = live.filter((_, i) => !handed[i]);
  ctx.logger.info('draining', { handedOver: handed.filter(Boolean).length, local: local.length, drainMs });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(local.map((l) => l.pumped)),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs))),
  ]);
  clearTimeout(timer);
  const left = local.filter((l) => !l.settled).length;
  return { handedOver: handed.filter(Boolean).length, finished: local.length - left, left };
}
