import type { ProcessRunner } from './process-runner.js';
import type { RunContext, RunFunction, RunOutcome } from './run.js';
import { runnerFiles, type RunnerFiles } from './runner-files.js';
import { createHash } from 'node:crypto';
import { delay } from './delay.js';
import type { SessionFile, SessionFilePatch, SessionStore } from './session-store.js';

/** Where one session's files are, for the adapter that declares `sessionPortability`. */
export interface PortableSession {
  sessionId: string;
  cwd?: string;
}

/**
 * What an adapter tells core about its sessions' files: their store paths (stable on every machine, e.g.
 * `projects/-work-app/<id>.jsonl`) and where each lives where the agent runs. Core reads and writes them over
 * the adapter's ProcessRunner.
 */
export interface SessionFilesLayout {
  runner: ProcessRunner;
  /**
   * The files that make the session resumable: store path → absolute path where the agent runs. `io` reads
   * and runs scripts where the agent runs (to find a file, or resolve `$CODEX_HOME`).
   */
  files(session: PortableSession, io: RunnerFiles): Promise<Array<{ path: string; absolute: string }>>;
  /** Where a stored file goes back, when restoring onto a machine that lacks it. */
  restorePath(session: PortableSession, path: string, io: RunnerFiles): string | Promise<string>;
  /** Environment of the helper processes, as the agent's (its HOME, CODEX_HOME…). */
  env?: Record<string, string>;
  /** Host variables the helper processes get, as the agent's (see SpawnOptions.passEnv). */
  passEnv?: readonly string[];
  /**
   * How long the program may still be creating a session's files after its turn ended (a warm CLI writes its
   * transcript behind the turn): a save right after a turn that finds none looks again until then. Default 0.
   */
  settleMs?: number;
}

/**
 * For a program that keeps its sessions in a database (OpenCode's SQLite), where no file holds one session:
 * the adapter exports a session as files and imports them back itself. Each save stores the whole export
 * (when it changed); a resume that finds the session missing where the agent runs imports the stored one.
 */
export interface SessionExportLayout {
  runner: ProcessRunner;
  /** The session as files (store path, e.g. `session.json` → bytes); empty when the program does not know it. */
  exportSession(session: PortableSession, io: RunnerFiles): Promise<SessionFile[]>;
  /** True when the program, where the agent runs, has the session. */
  hasSession(session: PortableSession, io: RunnerFiles): Promise<boolean>;
  /** Loads the stored files into the program where the agent runs. */
  importSession(session: PortableSession, files: SessionFile[], io: RunnerFiles): Promise<void>;
  /** Environment of the helper processes, as the agent's. */
  env?: Record<string, string>;
  /** Host variables the helper processes get, as the agent's (see SpawnOptions.passEnv). */
  passEnv?: readonly string[];
}

/**
 * Wraps an adapter's run function so its sessions outlive the machine: before a resume whose files are
 * missing where the agent runs, the stored ones are written back; after each turn, what the turn added is
 * saved (appended bytes only, for a file that grew). A save that fails does not fail the turn: it is an
 * `error` event (e.g. SESSION_TOO_LARGE) and a log line, and the next turn tries again with the whole file.
 */
export function withPortableSessions(
  run: RunFunction,
  provider: string,
  layout: SessionFilesLayout | SessionExportLayout,
  store: SessionStore,
): RunFunction {
  if ('exportSession' in layout) return withExportedSessions(run, provider, layout, store);
  const paths: SessionFilesLayout = layout;
  const io = runnerFiles(layout.runner, {
    ...(layout.env ? { env: layout.env } : {}),
    ...(layout.passEnv ? { passEnv: layout.passEnv } : {}),
  });
  // Bytes of each file this process knows the store holds: appends go from there.
  const saved = new Map<string, number>();
  const known = (sessionId: string, path: string) => `${sessionId}\n${path}`;

  async function restore(ctx: RunContext, session: PortableSession): Promise<void> {
    // Saved by this process: its files are where the agent runs (a warm follow-up pays no lookup).
    if ([...saved.keys()].some((k) => k.startsWith(`${session.sessionId}\n`))) return;
    const present = await paths.files(session, io);
    const sizes = await Promise.all(present.map((f) => io.size(f.absolute)));
    if (present.length > 0 && sizes.every((s) => s !== undefined)) return;
    const snapshot = await store.load({ provider, sessionId: session.sessionId });
    if (!snapshot) return;
    for (const file of snapshot.files) {
      await io.write(await paths.restorePath(session, file.path, io), file.data);
      saved.set(known(session.sessionId, file.path), file.data.length);
    }
    ctx.logger.info('session restored from the session store', {
      provider,
      sessionId: session.sessionId,
      files: snapshot.files.length,
      bytes: snapshot.size,
    });
  }

  // Sessions this process saved, so `flush` can save them once more when the agent closes.
  const touched = new Map<string, { session: PortableSession; title: string }>();

  async function save(ctx: RunContext, session: PortableSession): Promise<void> {
    const title = ctx.request.prompt.slice(0, 200);
    if (!touched.has(session.sessionId)) touched.set(session.sessionId, { session, title });
    await saveFiles(session, title, await settledFiles(session));
  }

  /** The session's files; none yet right after its turn: looked for again until the layout's settleMs. */
  async function settledFiles(session: PortableSession) {
    const until = Date.now() + (paths.settleMs ?? 0);
    for (;;) {
      const files = await paths.files(session, io);
      if (files.length > 0 || Date.now() >= until) return files;
      await delay(Math.min(100, until - Date.now()));
    }
  }

  async function saveFiles(
    session: PortableSession,
    title: string,
    files?: Array<{ path: string; absolute: string }>,
  ): Promise<void> {
    const patches: SessionFilePatch[] = [];
    for (const file of files ?? (await paths.files(session, io))) {
      const size = await io.size(file.absolute);
      if (size === undefined) continue;
      const from = saved.get(known(session.sessionId, file.path));
      if (from === size) continue;
      const append = from !== undefined && from < size;
      patches.push({
        path: file.path,
        data: await io.read(file.absolute, append ? from : 0),
        ...(append ? { from } : {}),
      });
    }
    if (!patches.length) return;
    await store.save(
      { provider, sessionId: session.sessionId },
      { files: patches, ...(session.cwd ? { cwd: session.cwd } : {}), title },
    );
    for (const p of patches) saved.set(known(session.sessionId, p.path), (p.from ?? 0) + p.data.length);
  }

  const portable = portableRun(run, restore, save, (sessionId) => {
    for (const p of [...saved.keys()].filter((k) => k.startsWith(`${sessionId}\n`))) saved.delete(p);
  });
  // A warm CLI may still be appending a turn's last lines when the turn ends: once its processes are gone (the
  // agent closing), what they wrote since is saved too.
  const flush = async () => {
    for (const { session, title } of touched.values()) await saveFiles(session, title).catch(() => undefined);
  };
  return Object.assign(portable, { flush });
}

/** The export/import variant of `withPortableSessions`. */
function withExportedSessions(
  run: RunFunction,
  provider: string,
  layout: SessionExportLayout,
  store: SessionStore,
): RunFunction {
  const io = runnerFiles(layout.runner, {
    ...(layout.env ? { env: layout.env } : {}),
    ...(layout.passEnv ? { passEnv: layout.passEnv } : {}),
  });
  // Digest of what the store holds for each session this process saved or restored (so it is present here).
  const saved = new Map<string, string>();
  const digest = (files: SessionFile[]) => {
    const hash = createHash('sha256');
    for (const f of files) hash.update(`${f.path}\0${f.data.length}\0`).update(f.data);
    return hash.digest('hex');
  };

  async function restore(ctx: RunContext, session: PortableSession): Promise<void> {
    if (saved.has(session.sessionId) || (await layout.hasSession(session, io))) return;
    const snapshot = await store.load({ provider, sessionId: session.sessionId });
    if (!snapshot) return;
    await layout.importSession(session, snapshot.files, io);
    saved.set(session.sessionId, digest(snapshot.files));
    ctx.logger.info('session restored from the session store', {
      provider,
      sessionId: session.sessionId,
      files: snapshot.files.length,
      bytes: snapshot.size,
    });
  }

  async function save(ctx: RunContext, session: PortableSession): Promise<void> {
    const files = await layout.exportSession(session, io);
    if (!files.length) return;
    const sum = digest(files);
    if (saved.get(session.sessionId) === sum) return;
    await store.save(
      { provider, sessionId: session.sessionId },
      { files, ...(session.cwd ? { cwd: session.cwd } : {}), title: ctx.request.prompt.slice(0, 200) },
    );
    saved.set(session.sessionId, sum);
  }

  return portableRun(run, restore, save, (sessionId) => saved.delete(sessionId));
}

/** Restore before the turn, save after it; neither failure fails the turn. */
function portableRun(
  run: RunFunction,
  restore: (ctx: RunContext, session: PortableSession) => Promise<void>,
  save: (ctx: RunContext, session: PortableSession) => Promise<void>,
  forget: (sessionId: string) => void,
): RunFunction {
  return async (ctx) => {
    const cwd = ctx.request.cwd;
    if (ctx.request.sessionId) {
      try {
        await restore(ctx, { sessionId: ctx.request.sessionId, ...(cwd ? { cwd } : {}) });
      } catch (error) {
        ctx.logger.warn('could not restore the session from the session store', { error: String(error) });
      }
    }
    const outcome: RunOutcome = await run(ctx);
    const sessionId = outcome.sessionId ?? ctx.sessionId;
    if (sessionId) {
      try {
        await save(ctx, { sessionId, ...(cwd ? { cwd } : {}) });
      } catch (error) {
        forget(sessionId);
        const e = error as { code?: string; message?: string };
        ctx.emit({
          type: 'error',
          code: e.code ?? 'SESSION_SAVE_FAILED',
          message: `session not saved: ${e.message ?? String(error)}`,
          retryable: false,
        });
        ctx.logger.warn('could not save the session to the session store', { error: String(error) });
      }
    }
    return outcome;
  };
}
