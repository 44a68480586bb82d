import type { AgentEvent } from '@forge/core';
import type { RunRecord } from '@forge/store';

/** Follows one run executing here, event by event (final event included, as journaled). */
export interface RunWatch {
  event(event: AgentEvent): void;
}

/** Told of each run this process starts executing (the metrics watch runs through it). */
export interface RunObserver {
  /** `record` was claimed here and its agent started it; `provider` is the provider name it runs on. */
  started(record: RunRecord, provider: string): RunWatch;
}
