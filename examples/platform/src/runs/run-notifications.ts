import { CANCEL_CHANNEL, JOURNAL_CHANNEL, QUEUE_CHANNEL } from '@forge/store';
import type { ReplyRelay } from './reply-relay.js';
import type { RunContext } from './run-context.js';

export interface RunNotificationHandlers {
  /** A batch of this run was journaled (by any instance). */
  journaled: (requestId: string) => void;
  /** A run was queued or an agent freed by another instance. */
  dispatch: () => void;
  /** Someone asked for a run executing here to be cancelled. */
  cancels: () => void;
}

/**
 * Listens for the store's notifications (journal, queue, cancel) and relayed replies, and wakes the
 * rooms they concern; without LISTEN, the heartbeat and follow polls do the same later. Returns the
 * unlisteners.
 */
export async function listenForRuns(
  ctx: RunContext,
  relay: ReplyRelay,
  on: RunNotificationHandlers,
): Promise<Array<() => Promise<void>>> {
  const runs = ctx.store.runs;
  const unlisten: Array<() => Promise<void>> = [];
  try {
    const listening = await Promise.all([
      runs.onNotify(JOURNAL_CHANNEL, on.journaled),
      // A run queued or an agent freed by another instance: claim now, not at the next poll.
      runs.onNotify(QUEUE_CHANNEL, (by) => {
        if (by !== ctx.instanceId) on.dispatch();
      }),
      runs.onNotify(CANCEL_CHANNEL, (owner) => {
        if (owner === ctx.instanceId) on.cancels();
      }),
    ]);
    for (const u of listening) if (u) unlisten.push(u);
  } catch (error) {
    ctx.logger.warn('cannot LISTEN for journal, queue and cancel notifications; polling instead', {
      error: String(error),
    });
  }
  try {
    await relay.listen(unlisten);
  } catch (error) {
    ctx.logger.warn('cannot LISTEN for relayed replies; polling for them instead', { error: String(error) });
  }
  return unlisten;
}
