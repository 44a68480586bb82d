import { ACP_PROBED_CAPABILITIES, acpDeclaredCapabilities } from './declared-capabilities.js';

const shared = {
  package: '@forge/acp',
  capabilities: acpDeclaredCapabilities(),
  probed: ACP_PROBED_CAPABILITIES,
};
const common = {
  cancel: '`session/cancel`',
  permissionReplies: '`session/request_permission`',
  questions: 'ACP has no questions',
  answers:
    'the `session/request_permission` response: the option of the kind the decision names (`allow_once`, `reject_once`, …)',
  // What a request gives the agent and what the host sees of its work (issues 21, 22); not in a table yet.
  mcpServers: 'on `session/new` / `load` / `resume`: stdio always, http / sse where `initialize` offers them',
  images: '`image` prompt blocks where `promptCapabilities.image`',
  fileChanges: "tool-call `diff` content, once the call has completed (the `diff` package's unified diff)",
  plan: '`plan` session updates (the whole plan)',
};

/** How the ACP adapters do what they declare, for the provider tables `pnpm docs` writes (README, architecture). */
export const acpProviderNotes = [
  {
    ...shared,
    provider: '`gemini` (`geminiCli`)',
    notes: {
      ...common,
      resume: 'Gemini 0.61.0 offers only `session/load`, which is flaky (see packages/acp/README.md)',
      textDeltas: 'message chunks',
      reasoning: 'thought chunks',
      usage: "tokens from the prompt result's `_meta.quota`; no cost",
      mcpServers: 'stdio, http, sse (tools named `mcp_<server>_<tool>`)',
      fileChanges: '`write_file`, `replace`: whole files before and after',
      plan: 'none: Gemini 0.61.0 sends no plan over ACP',
    },
  },
  {
    ...shared,
    provider: '`claude-code-acp` (`claudeCodeAcp`)',
    notes: {
      ...common,
      resume: '0.16.2 offers `session/resume` (used) and `session/load`',
      reasoning: 'thought chunks',
      usage: 'none reported over ACP',
      mcpServers: 'stdio, http, sse (tools named `mcp__<server>__<tool>`)',
      fileChanges: '`Write` (always `added`: it sends no old text), `Edit` (the replaced fragment)',
      plan: '`TodoWrite`',
    },
  },
  {
    ...shared,
    provider: '`acp` (any ACP agent, `acpAgent({ command })`)',
    notes: {
      ...common,
      resume: 'when it offers `loadSession` / `sessionCapabilities.resume`',
      usage: 'when the prompt result carries `usage`',
    },
  },
];
