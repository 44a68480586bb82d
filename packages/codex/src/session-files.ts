import { posix } from 'node:path';
import type { ProcessRunner, RunnerFiles, SessionFilesLayout } from '@forge/core';

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
  let home: Promise<string> | undefined;
  const codexHome = (io: RunnerFiles) => {
    home ??= io.shell(CODEX_HOME).then((h) => h.trim());
    return home;
  };
  // A thread's rollout does not move once written: found once per thread.
  const rollouts = new Map<string, string>();
  return {
    runner,
    env,
    passEnv,
    async files({ sessionId }, io) {
      const dir = await codexHome(io);
      let found = rollouts.get(sessionId);
      if (!found) {
        found = (await io.shell(FIND_ROLLOUT, [dir, sessionId])).trim();
        if (!found) return [];
        rollouts.set(sessionId, found);
      }
      return [{ path: posix.relative(dir, found), absolute: found }];
    },
    async restorePath(_session, path, io) {
      return posix.join(await codexHome(io), path);
    },
  };
}
