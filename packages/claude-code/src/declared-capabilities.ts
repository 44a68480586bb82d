import { type AgentCapabilities, defaultCapabilities } from '@forge/core';

/**
 * What `claudeCode()` can do, known without starting the CLI: `capabilities()` adds the probed version and
 * availability to it, and `pnpm docs` renders the provider tables from it.
 */
export function claudeCodeDeclaredCapabilities(options: { partialMessages?: boolean } = {}): AgentCapabilities {
  return defaultCapabilities({
    resume: true,
    cancel: true,
    // The control protocol: can_use_tool requests (and AskUserQuestion) are answered on stdin.
    permissionReplies: true,
    questions: true,
    textDeltas: options.partialMessages ?? true,
    reasoning: true,
    // Content blocks of the stream-json user message: inline images, PDFs and text files; paths by name.
    attachments: true,
    images: true,
    systemPrompt: true,
    toolFilter: true,
    // With a `sessionStore`: the session's .jsonl is saved after each turn and restored before a resume.
    sessionPortability: true,
    maxTurns: true,
    // Enforced by core from can_use_tool requests, questions and per-message usage (issue 23).
    approvals: true,
    questionDeadlines: true,
    budget: true,
    // `--mcp-config` (inline JSON) with `--strict-mcp-config`.
    mcpServers: true,
    // `--json-schema`: the CLI offers a StructuredOutput tool; its input is the result's `structured_output`.
    structuredOutput: 'native',
    effort: true,
    // A user message written to stdin while the turn runs (stream-json input).
    steering: true,
    // `--resume <id> --fork-session`: a new session id, the original left as it was.
    fork: true,
    // The CLI takes aliases and full names but does not list them.
    models: [],
  });
}
