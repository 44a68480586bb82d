import { spawn as spawnChild } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { cwdProblem } from './cwd-check.js';
import { ProcessSpawnError } from './errors.js';
import { DEFAULT_INHERITED_ENV, isInherited } from './local-process-runner.js';
import { loginShellOf } from './login-shell.js';
import { type OutputSocket, openOutputSocket } from './output-socket.js';
import type { OsUser } from './os-user.js';
import { pacedReadable, type PausableSource } from './paced-readable.js';
import { PROCESS_TAG_VAR, hasProc, killProcesses } from './process-tree.js';
import { loadPty, type PtyModule } from './pty-module.js';
import {
  validTerminalSize,
  type AttachExit,
  type AttachOptions,
  type AttachedProcess,
  type TerminalSize,
  type WorkspaceAttach,
} from './workspace-attach.js';

export interface LocalWorkspaceAttachOptions {
  /** The workspace: every process starts here unless `AttachOptions.cwd` says otherwise. */
  workspace: string;
  /** The account processes run as (the agents' FORGE_AGENT_USER); default this process's own. */
  user?: Pick<OsUser, 'uid' | 'gid'> & Partial<Pick<OsUser, 'name' | 'home'>>;
  /** Host variables passed on (names, `PREFIX*`); default `DEFAULT_INHERITED_ENV` — never the host's secrets. */
  inheritEnv?: readonly string[];
  /** Added to every process's environment. */
  env?: Record<string, string>;
  /** The PTY library; default `node-pty` when installed; false: never a terminal. */
  pty?: PtyModule | false;
}

const DEFAULT_SIZE: TerminalSize = { cols: 80, rows: 24 };

function endTree(pid: number | undefined, tag: string): void {
  if (pid !== undefined && process.platform !== 'win32') {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  // Whatever left the group (setsid, a daemonised tool) still carries the tag.
  if (hasProc) killProcesses([], tag);
}

/**
 * Opens processes in a local workspace as the agent's account. With `tty`, a real PTY through
 * `node-pty` (Microsoft's, VS Code's terminal: resize, job control, raw mode all as in a real
 * terminal); pipes otherwise, or when node-pty is not installed (said in `notes`).
 */
export function localWorkspaceAttach(options: LocalWorkspaceAttachOptions): WorkspaceAttach {
  const { user } = options;
  const baseEnv = (tty: boolean, extra: Record<string, string> | undefined, tag: string) => {
    const patterns = options.inheritEnv ?? DEFAULT_INHERITED_ENV;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env))
      if (value !== undefined && isInherited(name, patterns)) env[name] = value;
    if (user?.home !== undefined) env.HOME = user.home;
    if (user?.name !== undefined) env.USER = env.LOGNAME = user.name;
    if (tty) env.TERM = 'xterm-256color';
    const all: Record<string, string> = { ...env, ...options.env, ...extra, [PROCESS_TAG_VAR]: tag };
    return all;
  };

  return {
    async open(attach: AttachOptions = {}): Promise<AttachedProcess> {
      const cwd = attach.cwd ?? options.workspace;
      // Asked of the account database only when needed: it is a getent call.
      const shell = attach.command?.length ? undefined : loginShellOf(user?.uid);
      const argv = shell ? [shell, '-l'] : [...attach.command!];
      const [file, ...args] = argv as [string, ...string[]];
      const problem = cwdProblem(cwd, file);
      if (problem) throw problem;
      const notes: string[] = [];
      let pty: PtyModule | undefined;
      if (attach.tty) {
        pty = options.pty === false ? undefined : (options.pty ?? (await loadPty()));
        if (!pty) notes.push('no PTY library (node-pty) is installed here: the process has pipes, not a terminal');
      }
      const tag = randomBytes(12).toString('hex');
      const env = baseEnv(pty !== undefined, attach.env, tag);
      if (!env.SHELL && shell) env.SHELL = shell;
      const ids = user ? { uid: user.uid, gid: user.gid } : {};
      if (pty) {
        const size = validTerminalSize(attach) ?? DEFAULT_SIZE;
        return openPty(pty, file, args, { cwd, env, size, ids, tag, notes });
      }
      return openPipes(file, args, { cwd, env, ids, tag, notes });
    },
  };
}

interface OpenContext {
  cwd: string;
  env: Record<string, string>;
  ids: { uid?: number; gid?: number };
  tag: string;
  notes: string[];
}

function openPty(
  pty: PtyModule,
  file: string,
  args: string[],
  ctx: OpenContext & { size: TerminalSize },
): AttachedProcess {
  let term: ReturnType<PtyModule['spawn']>;
  try {
    term = pty.spawn(file, args, {
      name: 'xterm-256color',
      cols: ctx.size.cols,
      rows: ctx.size.rows,
      cwd: ctx.cwd,
      env: ctx.env,
      encoding: null,
      ...ctx.ids,
    });
  } catch (error) {
    throw new ProcessSpawnError(file, (error as Error).message, { cause: error });
  }
  let exit: AttachExit | undefined;
  const endListeners: Array<() => void> = [];
  const exited = new Promise<AttachExit>((resolve) => {
    // node-pty reports the exit after the terminal's last output has been delivered.
    term.onExit(({ exitCode, signal }) => {
      exit = signal ? { code: null, signal: signalName(signal) } : { code: exitCode, signal: null };
      endTree(term.pid, ctx.tag);
      for (const l of endListeners) l();
      resolve(exit);
    });
  });
  const source: PausableSource = {
    onData: (listener) => {
      term.onData((data) => listener(typeof data === 'string' ? Buffer.from(data) : (data as Uint8Array)));
    },
    onEnd: (listener) => {
      endListeners.push(() => listener());
    },
    pause: () => term.pause(),
    resume: () => term.resume(),
  };
  const stdout = pacedReadable(source);
  const stdin = new WritableStream<Uint8Array>({
    write(chunk) {
      if (!exit) term.write(Buffer.from(chunk));
    },
    // A terminal has no end of input: ^D at the start of a line is how one says it.
    close() {
      if (!exit) term.write('\x04');
    },
  });
  return {
    tty: true,
    stdin,
    stdout,
    stderr: new ReadableStream({ start: (c) => c.close() }),
    resize(size) {
      const valid = validTerminalSize(size);
      if (valid && !exit) term.resize(valid.cols, valid.rows);
    },
    exited,
    kill() {
      if (!exit) endTree(term.pid, ctx.tag);
    },
    notes: ctx.notes,
  };
}

function signalName(n: number): string {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? String(n);
}

/** Bytes per read of a child's output socket: what a socket holds at most, so one read usually drains it. */
const OUTPUT_READ_BYTES = 256 * 1024;

async function openPipes(file: string, args: string[], ctx: OpenContext): Promise<AttachedProcess> {
  const [out, err] = await Promise.all([openOutputSocket(OUTPUT_READ_BYTES), openOutputSocket(64 * 1024)]);
  try {
    return await spawnPiped(file, args, ctx, out, err);
  } catch (error) {
    out?.destroy();
    err?.destroy();
    throw error;
  } finally {
    // The child holds its own copies now (or never started).
    out?.childEnd.destroy();
    err?.childEnd.destroy();
  }
}

/** A child stream's output as a source: the fallback where no output socket could be had. */
const pipeSource = (stream: NodeJS.ReadableStream): PausableSource => ({
  onData: (l) => stream.on('data', (d: Buffer) => l(d)),
  onEnd: (l) => {
    stream.once('end', () => l());
    stream.once('error', (e: Error) => l(e));
  },
  pause: () => stream.pause(),
  resume: () => stream.resume(),
});

/** Settles once `source` has ended (its reader drained or cancelled it). */
const endOf = (source: PausableSource) => new Promise<void>((resolve) => source.onEnd(() => resolve()));

function spawnPiped(
  file: string,
  args: string[],
  ctx: OpenContext,
  out: OutputSocket | undefined,
  err: OutputSocket | undefined,
): Promise<AttachedProcess> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(file, args, {
      cwd: ctx.cwd,
      env: ctx.env,
      stdio: ['pipe', out?.childEnd ?? 'pipe', err?.childEnd ?? 'pipe'],
      detached: process.platform !== 'win32',
      ...ctx.ids,
    });
    // Always a pipe (stdio[0] is 'pipe'); typed nullable because the other two may be sockets.
    const stdin = child.stdin!;
    const stdoutSource = out?.source ?? pipeSource(child.stdout!);
    const stderrSource = err?.source ?? pipeSource(child.stderr!);
    const outputDone = Promise.all([endOf(stdoutSource), endOf(stderrSource)]);
    let exit: AttachExit | undefined;
    const exited = new Promise<AttachExit>((res) => {
      child.once('exit', (code, signal) => {
        endTree(child.pid, ctx.tag);
        // As `'close'` would: the exit once the output has been read (or its reader went away).
        void outputDone.then(() => {
          exit = { code, signal };
          res(exit);
        });
      });
    });
    child.once('error', (error) => {
      reject(new ProcessSpawnError(file, error.message, { cause: error }));
    });
    stdin.on('error', () => {
      // EPIPE once the process stops reading; its exit status tells the story.
    });
    child.once('spawn', () =>
      resolve({
        tty: false,
        stdin: new WritableStream<Uint8Array>({
          write: (chunk) =>
            new Promise<void>((res) => {
              if (exit || stdin.destroyed) return res();
              // Resolved once written: the next chunk waits, so a process that reads slowly paces its client.
              stdin.write(chunk, () => res());
            }),
          close: () => new Promise<void>((res) => stdin.end(() => res())),
          abort: () => {
            stdin.destroy();
          },
        }),
        stdout: pacedReadable(stdoutSource),
        stderr: pacedReadable(stderrSource),
        resize() {},
        exited,
        kill() {
          if (!exit) endTree(child.pid, ctx.tag);
        },
        notes: ctx.notes,
      }),
    );
  });
}
