import type { RunRecord, RunStatus, RunUsageFigures } from '@forge/store';
import { endedHere } from '../run-events.js';
import type { Outbox } from './outbox.js';
import type { RunContext } from './run-context.js';

export interface EndError {
  code: string;
  message: string;
  retryable: boolean;
}

/**
 * Ends a run that its agent will not end: a queued run cancelled, one whose agent is gone, whose
 * instance died, or whose journal cannot be written. It gets its one run.completed after its last
 * journaled event, and its webhook deliveries resume from the outbox.
 */
export class RunEnder {
  constructor(
    private readonly ctx: RunContext,
    private readonly outbox: Outbox,
  ) {}

  /** Ends the run when it is in one of `from` (and, running, held here); undefined when someone else ended it. */
  end(
    record: RunRecord,
    from: RunStatus[],
    status: 'failed' | 'cancelled',
    error: EndError,
    /** What the run used, when it executed here (the usage report's row). */
    usage?: RunUsageFigures,
  ): Promise<RunRecord | undefined> {
    const { store, instanceId, leaseMs, logger } = this.ctx;
    const now = this.ctx.now();
    return store.runs
      .finish(record.requestId, from, instanceId, now + leaseMs, (seq, run) =>
        endedHere(run, seq, now, status, error, usage),
      )
      .then((done) => {
        if (done?.webhook) void this.outbox.resume(done);
        if (done) logger.info('run ended', { requestId: done.requestId, status, code: error.code });
        return done;
      });
  }
}
