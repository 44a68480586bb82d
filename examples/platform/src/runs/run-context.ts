import type { Logger } from '@forge/core';
import type { ForgeStore } from '@forge/store';
import { DrainState } from '../drain-state.js';
import type { LiveRun } from './live-run.js';
import { RecentTails } from './recent-tails.js';

/** What the run manager's rooms share: the store, the clock, this instance's identity and periods, and its runs. */
export class RunContext {
  /** Runs executing in this process, by request id. */
  readonly live = new Map<string, LiveRun>();
  /** The last events of runs that finished here lately, for readers that come just after. */
  readonly recent = new RecentTails();
  /** Aborted once close has cancelled and flushed everything: followers and relayed replies stop waiting. */
  readonly closing = new AbortController();
  /** Set as close begins: nothing new is taken. */
  closed = false;
  /** Set as draining begins: nothing new is claimed or taken over; what runs here is handed over or finished. */
  drain = new DrainState();
  /** Runs claimed so far by this process (a heartbeat only judges runs claimed before it began). */
  claims = 0;

  constructor(
    readonly store: ForgeStore,
    readonly logger: Logger,
    readonly instanceId: string,
    readonly now: () => number,
    /** How long a lease lasts without renewal. */
    readonly leaseMs: number,
    /** Heartbeat and queue poll interval. */
    readonly pollMs: number,
    /** How often readers of runs executing elsewhere poll the journal. */
    readonly followPollMs: number,
  ) {}

  /** The live run of the user's agent that `waits` picks, if one executes here. */
  liveWaitingOn(userId: string, agentId: string, waits: (live: LiveRun) => boolean): LiveRun | undefined {
    for (const l of this.live.values())
      if (l.record.userId === userId && l.record.agentId === agentId && waits(l)) return l;
    return undefined;
  }
}
