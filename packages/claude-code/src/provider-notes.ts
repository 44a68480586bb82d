import { claudeCodeDeclaredCapabilities } from './declared-capabilities.js';

/** How `claudeCode()` does what it declares, for the provider tables `pnpm docs` writes (README, architecture). */
export const claudeCodeProviderNotes = {
  provider: '`claude-code`',
  package: '@forge/claude-code',
  capabilities: claudeCodeDeclaredCapabilities(),
  notes: {
    resume: '`--resume`; a warm process per session takes the next turn on stdin',
    cancel:
      'an `interrupt` control request: the CLI ends the turn with a result carrying the session id; SIGINT after a grace',
    permissionReplies: '`can_use_tool` control requests; or `permissionMode` / `allowedTools` up front',
    questions: '`AskUserQuestion`, through `can_use_tool`',
    textDeltas: '`--include-partial-messages`',
    reasoning: 'thinking blocks',
    usage: 'tokens per API message; cost (`total_cost_usd`)',
    answers:
      "`control_response` to the CLI's `can_use_tool` request on stdin; `run.steer` writes a user message to stdin while the turn runs",
  },
};
