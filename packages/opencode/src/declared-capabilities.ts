import { type AgentCapabilities, defaultCapabilities } from '@forge/core';

/**
 * What `opencode()` can do, known without a server: `capabilities()` adds the server's version, availability and
 * models to it, and `pnpm docs` renders the provider tables from it.
 */
export function opencodeDeclaredCapabilities(): AgentCapabilities {
  return defaultCapabilities({
    resume: true,
    cancel: true,
    permissionReplies: true,
    questions: true,
    textDeltas: true,
    reasoning: true,
    systemPrompt: true,
    toolFilter: true,
    // Enforced by core (issue 23); each assistant message reports its tokens and cost.
    approvals: true,
    questionDeadlines: true,
    budget: true,
    usageCost: true,
    // One server serves every run: its env is set where it starts (`opencode()`'s server options).
    env: false,
  });
}
