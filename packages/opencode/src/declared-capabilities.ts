import { type AgentCapabilities, defaultCapabilities } from '@forge/core';

/**
 * What `opencode()` can do, known without a server: `capabilities()` adds the server's version, availability and
 * models to it, and `pnpm docs` renders the provider tables from it.
 */
export function opencodeDeclaredCapabilities(options: { ownServer?: boolean } = {}): AgentCapabilities {
  const ownServer = options.ownServer ?? true;
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
    // `POST /mcp` adds a server to the whole instance (every session of the directory sees its tools, and there
    // is no endpoint to remove it), so one run's MCP servers would leak into every other run: refused.
    mcpServers: false,
    // The prompt's `format: json_schema`; the answer is the assistant message's `structured`.
    structuredOutput: 'native',
    // File parts of the prompt (a `data:` or `file://` URL). Images need a model with image input: checked per run.
    attachments: true,
    images: true,
    // The prompt's `variant`, when the model defines one of that name (checked per run).
    effort: true,
    // `POST /session/:id/fork`.
    fork: true,
    // With a `sessionStore`: each turn's session export is saved, and a resume on a server that lacks the session
    // runs `opencode import` where the server runs. Only for an owned server (`server`): a given `baseUrl` has no
    // runner where its server runs.
    sessionPortability: ownServer,
  });
}
