import { type AgentCapabilities, defaultCapabilities } from '@forge/core';

/**
 * The capabilities an ACP agent's `initialize` answer decides (`loadSession` / `sessionCapabilities.resume`,
 * `promptCapabilities.image`); until it has answered they read false.
 */
export const ACP_PROBED_CAPABILITIES = ['resume', 'images'] as const satisfies readonly (keyof AgentCapabilities)[];

/**
 * What `acpAgent()` can do before the agent has answered `initialize`: `capabilities()` starts from this and
 * fills in `ACP_PROBED_CAPABILITIES`; `pnpm docs` renders the provider tables from it.
 */
export function acpDeclaredCapabilities(): AgentCapabilities {
  return defaultCapabilities({
    resume: false,
    cancel: true,
    permissionReplies: true,
    // Only `session/request_permission` comes back to Forge; nothing maps to `question.requested`.
    questions: false,
    textDeltas: true,
    reasoning: true,
    attachments: true,
    images: false,
    systemPrompt: false,
    toolFilter: false,
    maxTurns: false,
    // Rules and deadlines on session/request_permission, enforced by core (issue 23). No budget: usage comes,
    // if the agent sends it at all, with the prompt's answer — too late to stop anything.
    approvals: true,
    // One agent process serves every run: its env is the agent's `env` option.
    env: false,
    // On `session/new` / `load` / `resume`: stdio always; http and sse where `mcpCapabilities` say (checked
    // by the run before it opens a session).
    mcpServers: true,
    // ACP has no structured output: core asks for JSON alone, parses and checks the final message, and sends a
    // repair turn on the same session when it does not fit.
    structuredOutput: 'emulated',
  });
}
