import type { AgentCapabilities } from '@forge/core';

export type AgentStatus = 'online' | 'offline';

/** One row of `hub.listAgents()`. */
export interface AgentInfo {
  /** The platform's id, from enrolment. */
  id: string;
  /** The registry name (announced by the agent; the enrolment name until it has connected). */
  name: string;
  /** The served agent's provider, e.g. "claude-code"; undefined until it has connected. */
  provider?: string;
  status: AgentStatus;
  /** Epoch ms of the last message from the agent; undefined if it never connected. */
  lastSeen?: number;
  /** The agent program's version, as announced. */
  version?: string;
  capabilities?: AgentCapabilities;
  /** Runs started through this hub that are still live. */
  runsInFlight: number;
  /** Epoch ms when it enrolled. */
  enrolledAt: number;
  /** Whether the agent's name is registered in the hub's provider registry right now. */
  registered: boolean;
}
