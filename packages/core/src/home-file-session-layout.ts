import { posix } from 'node:path';
import type { ProcessRunner } from './process-runner.js';
import type { RunnerFiles } from './runner-files.js';
import type { PortableSession, SessionFilesLayout } from './session-portability.js';

export interface HomeFileSessionOptions {
  runner: ProcessRunner;
  /** Environment of the helper processes, as the agent's (its HOME, CODEX_HOME…): the home resolves as the CLI's. */
  env: Record<string, string>;
  passEnv: readonly string[];
  /** A shell script printing the CLI's home where the agent runs (e.g. `printf %s "${CODEX_HOME:-$HOME/.codex}"`). */
  homeScript: string;
  /** A shell script printing the path of session `$2`'s file under home `$1`, or nothing when there is none. */
  findScript: string;
  /** Where a stored file (`path`, relative to the home it was saved from) goes back under `home`. */
  restorePath(home: string, session: PortableSession, path: string): string;
  /** See SessionFilesLayout.settleMs. */
  settleMs?: number;
}

/**
 * The session layout of a CLI that keeps each session in one file under its home (Claude Code's
 * `projects/<slug>/<id>.jsonl`, Codex's rollout file): the file is found by a script where the agent runs, stored
 * under its path relative to the home, and put back where `restorePath` says. The home is resolved once, and a
 * session's file once (it does not move once written).
 */
export function homeFileSessionLayout(options: HomeFileSessionOptions): SessionFilesLayout {
  let home: Promise<string> | undefined;
  const cliHome = (io: RunnerFiles) => {
    home ??= io.shell(options.homeScript).then((h) => h.trim());
    return home;
  };
  const found = new Map<string, string>();
  return {
    runner: options.runner,
    env: options.env,
    passEnv: options.passEnv,
    ...(options.settleMs ? { settleMs: options.settleMs } : {}),
    async files({ sessionId }, io) {
      const dir = await cliHome(io);
      let path = found.get(sessionId);
      if (!path) {
        path = (await io.shell(options.findScript, [dir, sessionId])).trim();
        if (!path) return [];
        found.set(sessionId, path);
      }
      return [{ path: posix.relative(dir, path), absolute: path }];
    },
    async restorePath(session, path, io) {
      return options.restorePath(await cliHome(io), session, path);
    },
  };
}
