import { type AgentCapabilities, defaultCapabilities } from '@forge/core';

/**
 * What `codex()` can do, known without starting the CLI: `capabilities()` adds the probed version and
 * availability to it, and `pnpm docs` renders the provider tables from it.
 */
export function codexDeclaredCapabilities(
  options: { ephemeral?: boolean; transport?: 'app-server' | 'exec' } = {},
): AgentCapabilities {
  if (options.transport === 'app-server')
    return defaultCapabilities({
      resume: !options.ephemeral,
      cancel: true,
      // The app server asks before commands and file changes (item/*/requestApproval).
      permissionReplies: true,
      // item/tool/requestUserInput.
      questions: true,
      // item/agentMessage/delta.
      textDeltas: true,
      reasoning: true,
      attachments: false,
      images: false,
      systemPrompt: true,
      toolFilter: false,
      maxTurns: false,
      models: [],
    });
  return defaultCapabilities({
    resume: !options.ephemeral,
    cancel: true,
    // `codex exec` never asks: its approval policy is `never`, the sandbox decides.
    permissionReplies: false,
    // The model's `request_user_input` tool has no channel back in exec mode.
    questions: false,
    // `--json` prints each agent message once, whole; the model's deltas are not forwarded.
    textDeltas: false,
    reasoning: true,
    attachments: false,
    images: false,
    systemPrompt: true,
    toolFilter: false,
    maxTurns: false,
    models: [],
  });
}
