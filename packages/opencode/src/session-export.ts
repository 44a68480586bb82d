import { randomUUID } from 'node:crypto';
import {
  ProviderError,
  localProcessRunner,
  type NotFoundError,
  type PortableSession,
  type ProcessRunner,
  type RunnerFiles,
  type SessionExportLayout,
  type SessionFile,
} from '@forge/core';
import type { OpencodeClient } from './client.js';
import { OPENCODE_PASS_ENV, type StartOpencodeServerOptions } from './server.js';

/** The one file a stored OpenCode session is: what `opencode export <id>` prints. */
export const OPENCODE_SESSION_FILE = 'session.json';

// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
const TMP_DIR = 'printf %s "${TMPDIR:-/tmp}"';
// The import runs in the session's directory (else the server's), as the CLI's own commands do; the file is
// removed whatever the import answers.
const IMPORT = 'cd "$3" 2>/dev/null; "$1" import "$2"; status=$?; rm -f -- "$2"; exit $status';

export interface OpencodeSessionExportOptions {
  /** The server's client (started on first use). */
  client: () => Promise<OpencodeClient>;
  /** Where the server runs: the import runs there, against the same data directory. */
  runner: ProcessRunner;
  bin: string;
  /** The server's environment (its XDG_DATA_HOME is where the session database is). */
  env: Record<string, string>;
  passEnv: readonly string[];
  /** The server's project directory, for a request that names no `cwd`. */
  directory?: string;
}

/**
 * OpenCode 1.18 keeps sessions in one SQLite database (`$XDG_DATA_HOME/opencode/opencode.db`), so no file holds
 * one session. A session is stored as its export instead: `{ info, messages: [{ info, parts }] }`, the shape
 * `opencode export <id>` prints, read from the running server (`GET /session/:id` and `/session/:id/message`,
 * no CLI start per turn); a resume on a server that lacks it runs `opencode import <file>` where that server
 * runs, with its environment, and the running server then finds it (verified with 1.18.33).
 */
export function opencodeSessionExport(options: OpencodeSessionExportOptions): SessionExportLayout {
  const directory = (cwd: string | undefined) => cwd ?? options.directory;
  const has = async ({ sessionId, cwd }: PortableSession) => {
    const client = await options.client();
    const dir = directory(cwd);
    const at = dir ? { directory: dir } : {};
    return (await found(client.request('GET', `/session/${encodeURIComponent(sessionId)}`, at))) !== undefined;
  };
  return {
    runner: options.runner,
    env: options.env,
    passEnv: options.passEnv,
    async exportSession({ sessionId, cwd }) {
      const client = await options.client();
      const path = `/session/${encodeURIComponent(sessionId)}`;
      const dir = directory(cwd);
      const at = dir ? { directory: dir } : {};
      const info = await found(client.request('GET', path, at));
      if (info === undefined) return [];
      const messages = await client.request('GET', `${path}/message`, at);
      const data = new TextEncoder().encode(JSON.stringify({ info, messages }));
      return [{ path: OPENCODE_SESSION_FILE, data }];
    },
    hasSession: (session) => has(session),
    async importSession({ sessionId, cwd }, files: SessionFile[], io: RunnerFiles) {
      const file = files.find((f) => f.path === OPENCODE_SESSION_FILE);
      if (!file) return;
      checkExportOf(sessionId, file.data);
      // The server must be up (and its database created) before the import writes into it.
      await options.client();
      const tmp = `${(await io.shell(TMP_DIR)).trim()}/forge-opencode-${sessionId}-${randomUUID()}.json`;
      await io.write(tmp, file.data);
      const said = await io.shell(IMPORT, [options.bin, tmp, directory(cwd) ?? '.']);
      // The CLI's exit status is not the whole story: the server must now know the session.
      if (!(await has({ sessionId, ...(cwd ? { cwd } : {}) })))
        throw new ProviderError(
          'OPENCODE_IMPORT_FAILED',
          `opencode import did not restore session ${sessionId}: ${said.trim().slice(0, 500)}`,
          { details: { sessionId } },
        );
    },
  };
}

/** The layout for an owned server: the import runs through its runner, with its environment and config. */
export function ownedServerSessionExport(
  server: StartOpencodeServerOptions,
  client: () => Promise<OpencodeClient>,
  directory: string | undefined,
): SessionExportLayout {
  return opencodeSessionExport({
    client,
    runner: server.runner ?? localProcessRunner(),
    bin: server.bin ?? 'opencode',
    // As `startOpencodeServer` builds it: the same data directory and config as the server's.
    env: {
      OPENCODE_DISABLE_AUTOUPDATE: 'true',
      ...server.env,
      ...(server.config ? { OPENCODE_CONFIG_CONTENT: JSON.stringify(server.config) } : {}),
    },
    passEnv: server.passEnv ?? OPENCODE_PASS_ENV,
    ...((directory ?? server.cwd) ? { directory: (directory ?? server.cwd)! } : {}),
  });
}

/**
 * Refuses an export that is not `sessionId`'s: a snapshot can come from a less trusted machine (a pod, a laptop
 * that dialled home), and `opencode import` writes whatever session the file names.
 */
function checkExportOf(sessionId: string, data: Uint8Array): void {
  let body: { info?: { id?: unknown }; messages?: Array<{ info?: { sessionID?: unknown } }> } | undefined;
  try {
    body = JSON.parse(new TextDecoder().decode(data)) as typeof body;
  } catch {
    body = undefined;
  }
  const foreign = (body?.messages ?? []).some(
    (m) => m?.info?.sessionID !== undefined && m.info.sessionID !== sessionId,
  );
  if (body?.info?.id !== sessionId || !Array.isArray(body.messages ?? []) || foreign)
    throw new ProviderError('OPENCODE_IMPORT_REFUSED', `the stored export is not session ${sessionId}'s`, {
      details: { sessionId },
    });
}

/** The answer, or undefined for a 404 (the server does not know the session). */
async function found(answer: Promise<unknown>): Promise<unknown> {
  try {
    return await answer;
  } catch (error) {
    if ((error as NotFoundError).code === 'OPENCODE_NOT_FOUND') return undefined;
    throw error;
  }
}
