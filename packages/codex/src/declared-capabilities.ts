import { type AgentCapabilities, defaultCapabilities } from '@forge/core';

/**
 * What `codex()` can do, known without starting the CLI: `capabilities()` adds the probed version and
 * availability to it, and `pnpm docs` renders the provider tables from it.
 */
export function codexDeclaredCapabilities(
  options: { ephemeral?: boolean; transport?: 'app-server' | 'exec' } = {},
): AgentCapabilities {
  // The app server asks before commands and file changes (item/*/requestApproval), asks questions
  // (item/tool/requestUserInput) and streams item/agentMessage/delta. `codex exec` does none of it: its approval
  // policy is `never` (the sandbox decides), the model's `request_user_input` has no channel back, and `--json`
  // prints each message once, whole.
  const appServer = (options.transport ?? 'app-server') === 'app-server';
  return defaultCapabilities({
    resume: !options.ephemeral,
    cancel: true,
    permissionReplies: appServer,
    questions: appServer,
    textDeltas: appServer,
    // `turn/steer` adds input to the running turn; `codex exec` reads its prompt once, from stdin.
    steering: appServer,
    // `thread/fork`: a new thread with the original's history (not for ephemeral threads, which are never stored).
    fork: appServer && !options.ephemeral,
    // The thread's config overrides (`mcp_servers.<name>`), `turn/start`'s `outputSchema` (the Responses API's
    // JSON-schema format: native), `localImage` / `image` inputs, and `turn/start`'s `effort`.
    mcpServers: appServer,
    structuredOutput: appServer ? 'native' : false,
    images: appServer,
    effort: appServer,
    reasoning: true,
    systemPrompt: true,
    // With a `sessionStore`, the thread's rollout file is saved after each turn and restored before a resume.
    sessionPortability: !options.ephemeral,
    // Enforced by core (issue 23): rules and deadlines need the app server's requests; both report usage.
    approvals: appServer,
    questionDeadlines: appServer,
    budget: true,
  });
}
