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
