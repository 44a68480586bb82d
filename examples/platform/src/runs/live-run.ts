import type { AgentResult, AgentRun, CodeAgent } from '@forge/core';
import type { JournalEvent, RunRecord } from '@forge/store';
import type { WebhookChannel } from '../webhook-port.js';
import { RunTail } from './run-tail.js';

export type Listener = (event: JournalEvent) => void;

/** A run executing in this process: its handle (interrupt, permission replies) and its committed events' readers. */
export class LiveRun {
  readonly pendingPermissions = new Set<string>();
  readonly pendingQuestions = new Set<string>();
  /** Questions answered (or being answered) while the run lives: a second answer is a conflict, not a miss. */
  readonly answeredQuestions = new Set<string>();
  readonly listeners = new Set<Listener>();
  /** Its last committed events, for readers joining while it runs (run-tail.ts). */
  readonly tail: RunTail;
  result: AgentResult | undefined;
  /** Its events are all committed and published (or can no longer be). */
  settled = false;
  pumped!: Promise<void>;
  channel: WebhookChannel | undefined;
  /** The agent it executes on (a pod's or remote agent's client can hand it over: run-handover.ts). */
  agent: CodeAgent | undefined;
  /** This instance is letting go of it (draining): the end its client makes for the handover is not the run's. */
  handingOver = false;
  /** Let go of: it goes on at its agent, and another instance adopts it from its last journaled event. */
  handedOver = false;

  constructor(
    readonly record: RunRecord,
    readonly run: AgentRun,
    /** Claim order in this process: a heartbeat only judges runs claimed before it began. */
    readonly claimNo: number,
  ) {
    // What was journaled before it started here (an adopted run's events) is read from the journal.
    this.tail = new RunTail(record.eventCount);
  }

  get requestId(): string {
    return this.record.requestId;
  }

  subscribe(listener: Listener): () => void {
    if (this.settled) return () => {};
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
