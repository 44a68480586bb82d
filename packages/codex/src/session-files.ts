import { posix } from 'node:path';
import type { ProcessRunner, SessionFilesLayout } from '@forge/core';
import { homeFileSessionLayout } from '@forge/core/internal';

// Where the CLI keeps its threads: `$CODEX_HOME` (default `~/.codex`), resolved by a shell where the agent runs,
// with the agent's own environment, so a pod or another user's HOME resolves as the CLI would.
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
const CODEX_HOME = 'printf %s "${CODEX_HOME:-$HOME/.codex}"';
const FIND_ROLLOUT = 'find "$1/sessions" -type f -name "rollout-*-$2.jsonl" 2>/dev/null | head -n 1';

/**
 * A thread's rollout file (`sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl` under CODEX_HOME) is all
 * `thread/resume` and `codex exec resume` need: stored under that relative path, and put back under the new
 * machine's CODEX_HOME. Credentials (`auth.json`) and config stay where they are.
 */
export function codexSessionFiles(
  runner: ProcessRunner,
  env: Record<string, string>,
  passEnv: readonly string[],
): SessionFilesLayout {
  return homeFileSessionLayout({
    runner,
    env,
    passEnv,
    homeScript: CODEX_HOME,
    findScript: FIND_ROLLOUT,
    restorePath: (home, _session, path) => posix.join(home, path),
  });
}
