import {
  ProcessSpawnError,
  pacedReadable,
  validTerminalSize,
  type AttachExit,
  type AttachOptions,
  type AttachedProcess,
  type PausableSource,
  type WorkspaceAttach,
} from '@forge/core';
import type { V1Status } from '@kubernetes/client-node';
// Not re-exported by the package index; the module is public in dist/ and the package has no exports map.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { PassThrough } from 'node:stream';
import { execArgv, type PodExecTarget } from './exec-runner.js';

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;
const CLOSE = 255;

export interface PodWorkspaceAttachOptions extends PodExecTarget {
  /** Where in the container processes start; default the container's working directory. */
  workspace?: string;
}

/** The login shell of the container's user: `$SHELL` where the image sets it, else /bin/sh. */
const LOGIN_SHELL = ['sh', '-c', '[ -n "$SHELL" ] || SHELL=/bin/sh; exec "$SHELL" -l'];

function exitOf(status: V1Status): AttachExit {
  if (status.status === 'Success') return { code: 0, signal: null };
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = cause?.message !== undefined ? Number.parseInt(cause.message, 10) : Number.NaN;
  return { code: Number.isInteger(code) ? code : 126, signal: null };
}

/**
 * Attach into an agent's pod: an exec through the API server with `tty` and the resize channel
 * (what `kubectl exec -it` does), its output paced by pausing the socket while the reader lags.
 */
export function podWorkspaceAttach(target: PodWorkspaceAttachOptions): WorkspaceAttach {
  return {
    async open(options: AttachOptions = {}): Promise<AttachedProcess> {
      const tty = options.tty === true;
      const base = options.command?.length ? [...options.command] : LOGIN_SHELL;
      const [command, ...args] = base as [string, ...string[]];
      const cwd = options.cwd ?? target.workspace;
      const argv = execArgv(command, args, {
        ...(cwd !== undefined ? { cwd } : {}),
        ...(options.env ? { env: options.env } : {}),
      });
      const query = new URLSearchParams({
        stdin: 'true',
        stdout: 'true',
        // With a tty the terminal carries both; Kubernetes refuses stderr then.
        stderr: String(!tty),
        tty: String(tty),
        container: target.container,
      });
      for (const part of argv) query.append('command', part);
      const path = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.podName)}/exec?${query}`;

      let socket: Awaited<ReturnType<WebSocketHandler['connect']>> | undefined;
      const listeners = {
        [STDOUT]: [] as Array<(c: Uint8Array) => void>,
        [STDERR]: [] as Array<(c: Uint8Array) => void>,
      };
      const enders: Array<() => void> = [];
      let pausedBy = 0;
      const source = (channel: 1 | 2): PausableSource => ({
        onData: (l) => listeners[channel].push(l),
        onEnd: (l) => enders.push(() => l()),
        // One socket carries both streams: it is paused while either reader lags.
        pause: () => {
          if (pausedBy++ === 0) socket?.pause?.();
        },
        resume: () => {
          if (pausedBy > 0 && --pausedBy === 0) socket?.resume?.();
        },
      });
      let exit: AttachExit | undefined;
      let resolveExit!: (e: AttachExit) => void;
      const exited = new Promise<AttachExit>((r) => (resolveExit = r));
      const finish = (e: AttachExit) => {
        if (exit) return;
        exit = e;
        for (const end of enders.splice(0)) end();
        resolveExit(e);
      };
      const stdout = pacedReadable(source(STDOUT));
      const stderr = pacedReadable(source(STDERR));
      const connector =
        target.connector ??
        new WebSocketHandler(target.kubeConfig, undefined, {
          stdin: new PassThrough(),
          stdout: new PassThrough(),
          stderr: new PassThrough(),
        });
      try {
        socket = await connector.connect(path, null, (channel, data) => {
          if (channel === STDOUT || channel === STDERR) {
            // pacedReadable copies what it keeps: no copy here.
            for (const l of listeners[channel]) l(data);
          } else if (channel === STATUS) {
            let status: V1Status;
            try {
              status = JSON.parse(data.toString('utf8')) as V1Status;
            } catch {
              status = { status: 'Failure' };
            }
            finish(exitOf(status));
            return false;
          }
          return true;
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new ProcessSpawnError(command, `exec into pod ${target.podName} failed: ${message}`, { cause: error });
      }
      const ws = socket;
      ws.on?.('close', () => finish({ code: null, signal: 'SIGHUP' }));
      const send = (data: Buffer) =>
        new Promise<void>((resolve) => {
          if (exit || ws.readyState !== ws.OPEN) return resolve();
          ws.send(data, () => resolve());
        });
      const resize = (size: { cols: number; rows: number }) => {
        const valid = validTerminalSize(size);
        if (tty && valid)
          void send(
            Buffer.concat([
              Buffer.from([RESIZE]),
              Buffer.from(JSON.stringify({ Width: valid.cols, Height: valid.rows })),
            ]),
          );
      };
      if (tty) resize(validTerminalSize(options) ?? { cols: 80, rows: 24 });
      const canClose = ws.protocol === 'v5.channel.k8s.io';
      return {
        tty,
        stdin: new WritableStream<Uint8Array>({
          write: (chunk) => send(Buffer.concat([Buffer.from([STDIN]), chunk])),
          close: () => (canClose ? send(Buffer.from([CLOSE, STDIN])) : Promise.resolve(ws.close(1000))),
        }),
        stdout,
        stderr: tty ? new ReadableStream({ start: (c) => c.close() }) : stderr,
        resize,
        exited,
        // Exec cannot signal: closing the stream hangs up the terminal (SIGHUP), and the runtime ends the exec.
        kill() {
          if (exit) return;
          ws.close(1000);
          setTimeout(() => ws.terminate?.(), 1000).unref();
        },
        notes: [],
      };
    },
  };
}
