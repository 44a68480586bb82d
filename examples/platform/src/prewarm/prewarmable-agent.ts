import type { AgentRequestInput, CodeAgent } from '@forge/core';

/** A spare process an agent keeps for a new session (claude-code's `Spare`). */
export interface SpareHandle {
  readonly ended: Promise<string>;
  release(): void;
}

/**
 * An agent that can start a process ahead of a new session shaped by a request (claude-code's
 * `SpareProcessAgent`); the platform keeps one per active agent configuration (SpareKeeper).
 */
export interface PrewarmableAgent {
  prewarm(request: Omit<AgentRequestInput, 'prompt'>, options?: { idleMs?: number }): SpareHandle;
}

export function canPrewarm(agent: CodeAgent | undefined): agent is CodeAgent & PrewarmableAgent {
  return typeof (agent as Partial<PrewarmableAgent> | undefined)?.prewarm === 'function';
}
