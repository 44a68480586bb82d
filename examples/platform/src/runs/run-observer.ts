import type { AgentEvent, AgentResult } from '@forge/core';
import type { RunRecord } from '@forge/store';

/** Follows one run executing here: its events as journaled, then how it ended. */
export interface RunWatch {
  event(event: AgentEvent): void;
  /**
   * The run settled here with this result (its own run.completed, or the one it was ended with here); undefined
   * when another instance took it over, which then counts it.
   */
  settled(result: AgentResult | undefined): void;
}

/** Told of each run this process starts executing (the metrics watch runs through it). */
export interface RunObserver {
  /** `record` was claimed here and its agent started it; `provider` is the provider name it runs on. */
  started(record: RunRecord, provider: string): RunWatch;
}
