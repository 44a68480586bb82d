import { codexDeclaredCapabilities } from './declared-capabilities.js';

const usage = 'tokens per turn (cached and reasoning apart); no cost';

/** How `codex()` does what it declares, for the provider tables `pnpm docs` writes (README, architecture). */
export const codexProviderNotes = [
  {
    provider: '`codex`',
    package: '@forge/codex',
    capabilities: codexDeclaredCapabilities(),
    notes: {
      resume: 'threads stay warm in one `codex app-server` process; `thread/resume` after a restart',
      cancel: '`turn/interrupt`: the thread goes on with the next turn; signals only past the grace period',
      permissionReplies: '`item/commandExecution/requestApproval` (`Bash`), `item/fileChange/requestApproval` (`Edit`)',
      questions: '`item/tool/requestUserInput`, offered by Codex in its Plan mode (`permissionMode: plan`)',
      textDeltas: '`item/agentMessage/delta`',
      reasoning: 'reasoning summaries',
      // `thread/tokenUsage/updated` after each model call: a budget stops a turn that keeps calling tools.
      usage: 'per model call (cached and reasoning apart); no cost',
      answers:
        "the approval response: `allow` → `accept`, `allow_always` → `acceptForSession` (that exact command), `deny` → `decline`; an MCP tool's (`mcp__<server>__<tool>`) as the `mcpServer/elicitation/request` response (`accept` / `decline`, `allow_always` persists for the session); answers as the `requestUserInput` response",
      // Not columns of the tables (yet): where the events of issue 22 come from.
      fileChanges:
        "`fileChange` items once completed (not declined or failed): path relative to the cwd, kind add/update(+move)/delete; the diff is Codex's hunks with file headers for an update, jsdiff of the whole content for an add or delete; `toolCallId` = the item id",
      plan: "`turn/plan/updated` (the model's `update_plan` tool), the whole plan each time",
      steering: "`turn/steer` with the running turn's id",
      fork: '`thread/fork` (a new thread id; the original untouched)',
    },
  },
  {
    provider: "`codex` with `transport: 'exec'`",
    package: '@forge/codex',
    capabilities: codexDeclaredCapabilities({ transport: 'exec' }),
    notes: {
      resume: '`codex exec resume <thread id>`; not with `ephemeral`',
      cancel: 'SIGINT: the CLI stops without a word; Forge ends the run `cancelled` with the thread id',
      permissionReplies:
        '`codex exec` never asks: approval policy `never`, the `read-only` / `workspace-write` / `danger-full-access` sandbox decides',
      textDeltas: '`--json` prints messages whole',
      reasoning: 'reasoning summaries',
      usage,
      answers: '—',
    },
  },
];
