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
      usage,
      answers:
        'the approval response: `allow` → `accept`, `allow_always` → `acceptForSession` (that exact command), `deny` → `decline`; answers as the `requestUserInput` response',
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
