import { spawn as spawnChild } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cwdProblem } from './cwd-check.js';
import { ProcessSpawnError } from './errors.js';
import type { OsUser } from './os-user.js';
import { forgetProcess, recordProcess, thisProcess } from './process-ledger.js';
import type { ProcessExit, ProcessRunner, RunningProcess, SpawnOptions } from './process-runner.js';
import { PROCESS_TAG_VAR, descendantsOf, hasProc, killProcesses, startTimeOf, type ProcessId } from './process-tree.js';

/**
 * The host variables a local process gets by default: where programs and home are, locale,
 * terminal, temp dir, time zone, proxies and CA bundles, XDG dirs. Never secrets: a provider's key
 * reaches its process only through `env` or `passEnv`. A trailing `*` matches a prefix.
 */
export const DEFAULT_INHERITED_ENV: readonly string[] = Object.freeze([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_*',
  'TERM',
  'COLORTERM',
  'TMPDIR',
  'TZ',
  'XDG_*',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
]);

/** Whether `name` is matched by one of `patterns` (exact names, or prefixes ending in `*`). */
export function isInherited(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

function pickEnv(from: NodeJS.ProcessEnv, patterns: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value !== undefined && isInherited(name, patterns)) picked[name] = value;
  }
  return picked;
}

export interface LocalProcessRunnerOptions {
  /** Added to every process's environment. */
  env?: Record<string, string>;
  /**
   * Which of this process's variables a child starts from: a list of names / `PREFIX*` patterns
   * (default `DEFAULT_INHERITED_ENV`), or `true` for all of them — only for a host that keeps no
   * secret in its environment. A spawn's `passEnv` names are added to the list.
   */
  inheritEnv?: boolean | readonly string[];
  /**
   * When the process exits (or is SIGKILLed), SIGKILL everything it started, so nothing outlives
   * it: its process group, and on Linux its whole tree — tools in sessions of their own included
   * (see process-tree.ts). Default true.
   */
  killGroupOnExit?: boolean;
  /** Linux: how often the tree of a live process is recorded, to find descendants after they are re-parented. Default 500 ms. */
  treePollMs?: number;
  /**
   * Linux: a directory where each live process is recorded (pid, start time, tag), so that after
   * this host dies without cleaning up (`kill -9`), the next one ends what it left with
   * `reapOrphanProcesses(stateDir)`. Default: none.
   */
  stateDir?: string;
  /**
   * Start every process as this OS user (`lookupOsUser(name)`), with its `HOME`, `USER` and
   * `LOGNAME` (a spawn's `env` may still set its own `HOME`). An agent that runs as an
   * unprivileged user of its own cannot read this host's `/proc/<pid>/environ` (the kernel's ptrace
   * access check) nor files only the host's user may read. This host must be root or hold
   * CAP_SETUID, CAP_SETGID and CAP_KILL (`userSwitchProblem()` says); the cwd must be reachable by
   * the user. Default: this process's own user.
   */
  user?: Pick<OsUser, 'uid' | 'gid'> & Partial<Pick<OsUser, 'name' | 'home'>>;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined || process.platform === 'win32') return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function childEnv(runnerOptions: LocalProcessRunnerOptions, options: SpawnOptions): Record<string, string> {
  if (options.inheritEnv === false) return { ...options.env };
  const inherit = runnerOptions.inheritEnv ?? DEFAULT_INHERITED_ENV;
  const host =
    inherit === true
      ? pickEnv(process.env, ['*'])
      : pickEnv(process.env, [...(inherit === false ? [] : inherit), ...(options.passEnv ?? [])]);
  const user = runnerOptions.user;
  // What the host's own HOME/USER said was about the host's user, not this one.
  const account: Record<string, string> = {};
  if (user?.home !== undefined) account.HOME = user.home;
  if (user?.name !== undefined) account.USER = account.LOGNAME = user.name;
  return { ...host, ...account, ...runnerOptions.env, ...options.env };
}

/** Why a spawn failed, in words that point at the cause when the process was to run as another user. */
function spawnFailure(error: NodeJS.ErrnoException, user: LocalProcessRunnerOptions['user']): string {
  if (user && error.code === 'EPERM')
    return `not permitted to start it as ${user.name ?? `uid ${user.uid}`} (${error.message}): the host must run as root or hold CAP_SETUID and CAP_SETGID`;
  if (user && error.code === 'EACCES')
    return `${error.message}: can ${user.name ?? `uid ${user.uid}`} reach and execute it, and its working directory?`;
  return error.message;
}

/**
 * A ProcessRunner on node:child_process. Processes get their own process group, so a kill reaches
 * their children too, and a minimal environment (see `inheritEnv`), so an agent cannot read the
 * host's secrets.
 */
export function localProcessRunner(runnerOptions: LocalProcessRunnerOptions = {}): ProcessRunner {
  return {
    spawn(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<RunningProcess> {
      // Every descendant inherits the tag, so it can be found after it left the tree (setsid, re-parenting).
      const tag = randomBytes(12).toString('hex');
      const env = { ...childEnv(runnerOptions, options), [PROCESS_TAG_VAR]: tag } as NodeJS.ProcessEnv;
      const endTree = runnerOptions.killGroupOnExit !== false;
      const tree = new Map<number, ProcessId>();
      let poll: ReturnType<typeof setInterval> | undefined;
      const recordTree = (pid: number) => {
        for (const d of descendantsOf(pid)) tree.set(d.pid, d);
      };
      const killTree = (pid: number | undefined) => {
        if (!endTree || !hasProc) return;
        if (pid !== undefined) recordTree(pid);
        killProcesses(tree.values(), tag);
      };
      return new Promise<RunningProcess>((resolve, reject) => {
        let child: ReturnType<typeof spawnChild>;
        try {
          child = spawnChild(command, [...args], {
            cwd: options.cwd,
            env,
            stdio: ['pipe', 'pipe', 'pipe'],
            detached: process.platform !== 'win32',
            ...(runnerOptions.user ? { uid: runnerOptions.user.uid, gid: runnerOptions.user.gid } : {}),
          });
        } catch (error) {
          // A cwd that is a file fails here, synchronously (ENOTDIR).
          const badCwd = options.cwd !== undefined ? cwdProblem(options.cwd, command) : undefined;
          reject(
            badCwd ??
              new ProcessSpawnError(command, spawnFailure(error as NodeJS.ErrnoException, runnerOptions.user), {
                cause: error,
              }),
          );
          return;
        }
        let exitInfo: ProcessExit | undefined;
        const exited = new Promise<ProcessExit>((resolveExit) => {
          // Whatever the process left running in its group (a backgrounded tool) must not outlive
          // it; those leftovers would also hold the pipes open and keep 'close' from ever firing.
          child.once('exit', () => {
            clearInterval(poll);
            if (endTree) {
              killGroup(child.pid, 'SIGKILL');
              killTree(undefined);
            }
          });
          child.once('close', (code, signal) => {
            exitInfo = { code, signal };
            if (runnerOptions.stateDir) forgetProcess(runnerOptions.stateDir, tag);
            resolveExit(exitInfo);
          });
        });
        child.stdin!.on('error', () => {
          // EPIPE when the process exits before reading all its input; the exit status tells the story.
        });
        const stdin = {
          write: (data: string | Uint8Array) =>
            new Promise<void>((res, rej) => {
              child.stdin!.write(data, (err) => (err ? rej(err) : res()));
            }),
          end: () =>
            new Promise<void>((res) => {
              child.stdin!.end(() => res());
            }),
        };
        child.once('error', (error: NodeJS.ErrnoException) => {
          // Node says ENOENT for a missing cwd as for a missing binary; tell them apart.
          const badCwd =
            (error.code === 'ENOENT' || error.code === 'ENOTDIR') && options.cwd !== undefined
              ? cwdProblem(options.cwd, command)
              : undefined;
          if (badCwd) return reject(badCwd);
          reject(
            new ProcessSpawnError(
              command,
              error.code === 'ENOENT'
                ? 'not found (is it installed and on PATH?)'
                : spawnFailure(error, runnerOptions.user),
              { cause: error },
            ),
          );
        });
        child.once('spawn', () => {
          const pid = child.pid;
          if (pid !== undefined && hasProc && endTree) {
            const startTime = startTimeOf(pid);
            if (runnerOptions.stateDir && startTime !== undefined) {
              try {
                recordProcess(runnerOptions.stateDir, { pid, startTime, tag, command, owner: thisProcess() });
              } catch {
                // An unwritable state dir costs the crash clean-up, not the run.
              }
            }
            poll = setInterval(() => recordTree(pid), runnerOptions.treePollMs ?? 500);
            poll.unref();
          }
          if (options.input !== undefined) {
            child.stdin!.end(options.input);
          }
          const running: RunningProcess = {
            pid: child.pid,
            stdout: child.stdout!,
            stderr: child.stderr!,
            stdin,
            exited,
            kill(signal: NodeJS.Signals = 'SIGTERM') {
              if (exitInfo || child.exitCode !== null || child.signalCode !== null) return false;
              // What the process started as of now: after a gentle signal it may exit and leave them re-parented.
              if (endTree && hasProc && child.pid !== undefined) recordTree(child.pid);
              // SIGKILL takes the whole group (the CLI's shells and tools); gentler signals go to
              // the CLI alone, so it can wind down its tools and report as it was designed to.
              if (signal === 'SIGKILL') {
                const grouped = killGroup(child.pid, signal);
                killTree(child.pid);
                if (grouped) return true;
              }
              return child.kill(signal);
            },
            unref() {
              child.unref();
              for (const pipe of [child.stdin, child.stdout, child.stderr])
                (pipe as { unref?(): void } | null)?.unref?.();
            },
            ref() {
              child.ref();
              for (const pipe of [child.stdin, child.stdout, child.stderr]) (pipe as { ref?(): void } | null)?.ref?.();
            },
          };
          resolve(running);
        });
      });
    },
  };
}
