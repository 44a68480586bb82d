import { posix } from 'node:path';
import { ValidationError, type ProcessRunner, type SessionFilesLayout } from '@forge/core';
import { homeFileSessionLayout } from '@forge/core/internal';

// The CLI's home: `$CLAUDE_CONFIG_DIR`, else `~/.claude`, resolved by a shell where the agent runs, with the
// agent's own environment (its HOME, a pod's, another user's).
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
const CLAUDE_HOME = 'printf %s "${CLAUDE_CONFIG_DIR:-$HOME/.claude}"';
const FIND_SESSION = 'find "$1/projects" -mindepth 2 -maxdepth 2 -type f -name "$2.jsonl" 2>/dev/null | head -n 1';

/** The CLI's project directory name for a cwd: every character but a letter or digit becomes `-`. */
export function projectSlug(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, '-');
}

/**
 * A session is one file, `projects/<cwd slug>/<session id>.jsonl` under the CLI's home (verified with 2.1.197:
 * copied alone into a fresh HOME under the same slug, `--resume` continued it with the whole history). It is
 * stored under that relative path and put back under the slug of the cwd it resumes in. Credentials and
 * settings stay where they are.
 */
export function claudeSessionFiles(
  runner: ProcessRunner,
  env: Record<string, string>,
  passEnv: readonly string[],
  defaultCwd: string | undefined,
): SessionFilesLayout {
  return homeFileSessionLayout({
    runner,
    env,
    passEnv,
    homeScript: CLAUDE_HOME,
    findScript: FIND_SESSION,
    // A warm CLI writes its transcript behind the turn: on a loaded machine a new session's file was not there yet
    // when the turn ended, and a remote agent stopped then had nothing saved (its flush at close has no run to go
    // over the link with).
    settleMs: 2_000,
    restorePath: (home, session, path) => {
      // A snapshot can come from a less trusted machine (a pod, a laptop that dialled home): only the session's
      // own file goes back.
      if (posix.basename(path) !== `${session.sessionId}.jsonl`)
        throw new ValidationError(
          'INVALID_SESSION_FILE',
          `${path.slice(0, 200)} is not session ${session.sessionId}'s file`,
          [{ path: 'files.path', code: 'INVALID_SESSION_FILE', message: 'not <session id>.jsonl' }],
        );
      return posix.join(
        home,
        'projects',
        projectSlug(session.cwd ?? defaultCwd ?? process.cwd()),
        posix.basename(path),
      );
    },
  });
}
