import { randomUUID } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { PassThrough } from 'node:stream';
import { ProcessSpawnError } from '@forge/core';
import type { ProcessExit, ProcessRunner, RunningProcess, SpawnOptions } from '@forge/core';
import type { Exec, KubeConfig, V1Status } from '@kubernetes/client-node';
// Not re-exported by the package index; the module is public in dist/ and the package has no exports map.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';

/** client-node's WebSocketInterface (its connect() opens an exec/attach/port-forward socket). */
export type WebSocketInterface = Exec['handler'];

type Socket = Awaited<ReturnType<WebSocketInterface['connect']>>;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;
/** The only protocol that can close stdin without closing the whole connection (Kubernetes ≥ 1.30 by default). */
const V5 = 'v5.channel.k8s.io';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** After a kill, how long the server gets to answer the WebSocket close before the socket is torn down. */
const CLOSE_GRACE_MS = 1000;

export interface PodExecTarget {
  kubeConfig: KubeConfig;
  namespace: string;
  podName: string;
  container: string;
  /** Injectable WebSocket connector (client-node's WebSocketInterface); default a WebSocketHandler on kubeConfig. */
  connector?: WebSocketInterface;
  /** See ExecRunnerOptions.signals. Default `close`. */
  signals?: 'close' | 'exec';
}

/** Starts the command through sh so that its PID (kept across the `exec`s) lands in `pidFile`. */
export function withPidFile(argv: string[], pidFile: string): string[] {
  return ['sh', '-c', 'echo $$ > "$0" && exec "$@"', pidFile, ...argv];
}

/** The command the second exec runs to deliver `signal` to the process recorded in `pidFile`. */
export function killArgv(signal: NodeJS.Signals, pidFile: string): string[] {
  return ['sh', '-c', 'kill -s "$0" "$(cat "$1")"', signal.replace(/^SIG/, ''), pidFile];
}

/** A process the runtime killed with a signal reports 128 + its number. */
function signalExit(code: number | null, signal: NodeJS.Signals | undefined): boolean {
  if (code === null || signal === undefined) return false;
  const number = (osConstants.signals as Record<string, number | undefined>)[signal];
  return number !== undefined && code === 128 + number;
}

/**
 * Exec has no cwd or env: they become a `sh -c 'cd …'` and an `env …` prefix, so a command using them needs `sh`
 * and `env` in the image. Values travel in argv, visible to `ps` inside the pod (not outside it).
 */
export function execArgv(command: string, args: readonly string[], options: SpawnOptions): string[] {
  let argv = [command, ...args];
  const env = Object.entries(options.env ?? {});
  for (const [name] of env) {
    if (!ENV_NAME.test(name))
      throw new ProcessSpawnError(
        command,
        `environment variable name ${JSON.stringify(name)} cannot be passed through exec`,
      );
  }
  if (env.length > 0 || options.inheritEnv === false) {
    argv = ['env', ...(options.inheritEnv === false ? ['-i'] : []), ...env.map(([k, v]) => `${k}=${v}`), ...argv];
  }
  if (options.cwd !== undefined) {
    argv = ['sh', '-c', 'cd -- "$1" || exit 126; shift; exec "$@"', 'sh', options.cwd, ...argv];
  }
  return argv;
}

function exitFromStatus(status: V1Status): { exit: ProcessExit; message?: string } {
  if (status.status === 'Success') return { exit: { code: 0, signal: null } };
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = cause?.message !== undefined ? Number.parseInt(cause.message, 10) : Number.NaN;
  if (Number.isInteger(code)) return { exit: { code, signal: null } };
  // The process never ran (binary missing, container gone…): shell conventions 127 / 126.
  const message = status.message ?? status.reason ?? 'exec failed';
  return { exit: { code: /not found|no such file/i.test(message) ? 127 : 126, signal: null }, message };
}

/** A core ProcessRunner that runs commands in one container of one pod through the Kubernetes exec API. */
export function podExecRunner(target: PodExecTarget): ProcessRunner {
  const plain: ProcessRunner = {
    spawn: (command, args, options) => spawnInPod(target, command, args, options ?? {}, undefined),
  };
  return {
    spawn(command, args, options = {}) {
      if (target.signals !== 'exec') return plain.spawn(command, args, options);
      const pidFile = `/tmp/forge-exec-${randomUUID()}.pid`;
      return spawnInPod(target, command, args, options, {
        pidFile,
        async deliver(signal) {
          const [sh, ...rest] = killArgv(signal, pidFile);
          const proc = await plain.spawn(sh!, rest, { input: '' });
          const exit = await proc.exited;
          if (exit.code !== 0) throw new Error(`kill -s ${signal} in the pod exited with ${exit.code ?? exit.signal}`);
        },
      });
    },
  };
}

interface SignalViaExec {
  pidFile: string;
  deliver(signal: NodeJS.Signals): Promise<void>;
}

async function spawnInPod(
  target: PodExecTarget,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
  signalVia: SignalViaExec | undefined,
): Promise<RunningProcess> {
  const wrapped = execArgv(command, args, options);
  const argv = signalVia ? withPidFile(wrapped, signalVia.pidFile) : wrapped;
  // An empty input needs no stdin at all: the process then reads EOF at once, on every protocol version.
  const wantsStdin = options.input === undefined || options.input.length > 0;
  const query = new URLSearchParams({
    stdout: 'true',
    stderr: 'true',
    stdin: String(wantsStdin),
    tty: 'false',
    container: target.container,
  });
  for (const part of argv) query.append('command', part);
  const path = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.podName)}/exec?${query.toString()}`;

  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let exitInfo: ProcessExit | undefined;
  let killedWith: NodeJS.Signals | undefined;
  let resolveExit!: (exit: ProcessExit) => void;
  const exited = new Promise<ProcessExit>((r) => (resolveExit = r));
  const finish = (exit: ProcessExit, message?: string) => {
    if (exitInfo) return;
    exitInfo = exit;
    if (message && !stderr.writableEnded) stderr.write(`${message}\n`);
    if (!stdout.writableEnded) stdout.end();
    if (!stderr.writableEnded) stderr.end();
    resolveExit(exit);
  };

  const connector =
    target.connector ??
    // Own streams: the default WebSocketHandler would pause process.stdin on a v5 close frame.
    new WebSocketHandler(target.kubeConfig, undefined, { stdin: new PassThrough(), stdout, stderr });
  let socket: Socket;
  try {
    socket = await connector.connect(path, null, (channel, data) => {
      // A server may keep talking after it closed a stream; writing to an ended stream would throw.
      if (channel === STDOUT) {
        if (!stdout.writableEnded) stdout.write(data);
      } else if (channel === STDERR) {
        if (!stderr.writableEnded) stderr.write(data);
      } else if (channel === STATUS) {
        let status: V1Status;
        try {
          status = JSON.parse(data.toString('utf8')) as V1Status;
        } catch {
          status = { status: 'Failure', message: `unreadable exec status: ${data.toString('utf8')}` };
        }
        const { exit, message } = exitFromStatus(status);
        finish(signalExit(exit.code, killedWith) ? { code: null, signal: killedWith! } : exit, message);
        return false;
      } else if (channel === CLOSE && data[0] === STDOUT && !stdout.writableEnded) stdout.end();
      else if (channel === CLOSE && data[0] === STDERR && !stderr.writableEnded) stderr.end();
      return true;
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String((error as { message?: unknown })?.message ?? error);
    throw new ProcessSpawnError(
      command,
      `exec into pod ${target.podName} (container ${target.container}) failed: ${message}`,
      {
        cause: error,
        details: { podName: target.podName, container: target.container, namespace: target.namespace },
      },
    );
  }

  let stdinEnded = !wantsStdin;
  const canCloseStdin = socket.protocol === V5;
  const closeConnection = () => {
    if (canCloseStdin && !stdinEnded && socket.readyState === socket.OPEN) {
      stdinEnded = true;
      socket.send(Buffer.from([CLOSE, STDIN]));
    }
    socket.close(1000);
    setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
  };
  socket.on('close', () => finish({ code: null, signal: killedWith ?? 'SIGHUP' }));

  const send = (data: Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (exitInfo || socket.readyState !== socket.OPEN) {
        reject(new Error('stdin is closed: the process has exited'));
        return;
      }
      socket.send(data, (error?: Error) => (error ? reject(error) : resolve()));
    });
  const stdin = {
    write: (data: string | Uint8Array) => {
      if (stdinEnded) return Promise.reject(new Error('stdin has been ended'));
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
      return send(Buffer.concat([Buffer.from([STDIN]), bytes]));
    },
    end: async () => {
      if (stdinEnded) return;
      if (!canCloseStdin) {
        throw new Error(
          `closing stdin needs ${V5} (Kubernetes >= 1.30); the server chose ${socket.protocol || 'an older protocol'}`,
        );
      }
      stdinEnded = true;
      await send(Buffer.from([CLOSE, STDIN])).catch(() => undefined);
    },
  };

  if (options.input !== undefined && wantsStdin) {
    if (!canCloseStdin) {
      socket.close();
      throw new ProcessSpawnError(
        command,
        `input on stdin needs ${V5} (Kubernetes >= 1.30) to signal end of input; the API server chose ${socket.protocol || 'an older protocol'}`,
        { details: { podName: target.podName, protocol: socket.protocol } },
      );
    }
    await stdin.write(options.input);
    await stdin.end();
  }

  return {
    pid: undefined,
    stdout,
    stderr,
    stdin,
    exited,
    /**
     * Exec cannot deliver signals. By default a kill closes stdin (v5) and then the connection; Kubernetes
     * does not signal the process for that — it sees EOF on stdin and EPIPE/SIGPIPE on its next write. The
     * exit reported is `{ code: null, signal }`. With `signals: 'exec'` the signal is real (a second exec
     * runs `kill`), and the exit is the process's own; 128 + n for the signal sent reads as that signal.
     */
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (exitInfo) return false;
      killedWith = signal;
      if (signalVia) {
        signalVia.deliver(signal).catch(() => {
          if (!exitInfo) closeConnection();
        });
        return true;
      }
      closeConnection();
      return true;
    },
  };
}
