import { posix } from 'node:path';
import { ValidationError, type ProcessRunner, type SessionFilesLayout } from '@forge/core';
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
    restorePath: (home, session, path) => posix.join(home, rolloutPath(session.sessionId, path)),
  });
}

/**
 * The stored path, if it is the thread's own rollout file. A snapshot can come from a machine less trusted than
 * this one (a pod, a laptop that dialled home): anything else under CODEX_HOME (config.toml, auth.json) would be
 * configuration every later CLI obeys, so it is never written back.
 */
function rolloutPath(threadId: string, path: string): string {
  const parts = path.split('/');
  const name = parts.at(-1) ?? '';
  const dated = parts.length === 5 && parts[0] === 'sessions' && parts.slice(1, 4).every((p) => /^\d{1,4}$/.test(p));
  if (dated && name.startsWith('rollout-') && name.endsWith(`-${threadId}.jsonl`)) return path;
  throw new ValidationError(
    'INVALID_SESSION_FILE',
    `${path.slice(0, 200)} is not the rollout file of thread ${threadId}`,
    [{ path: 'files.path', code: 'INVALID_SESSION_FILE', message: 'not sessions/YYYY/MM/DD/rollout-*-<thread>.jsonl' }],
  );
}
