import type { ProcessExit, ProcessRunner, RunningProcess, SpawnOptions } from '@forge/core';
import { AsyncQueue } from '@forge/core/internal';

type Msg = Record<string, any>;

/** What a scripted server's handler can do: write messages, exit. */
export interface ScriptedServer {
  send(message: Msg): void;
  /** A notification `{method, params}`. */
  notify(method: string, params: Msg): void;
  exit(code?: number | null, signal?: string | null): void;
  /** Writes a line to stderr. */
  stderr(text: string): void;
  /** Every message the client wrote, parsed. */
  readonly received: Msg[];
  readonly args: readonly string[];
  readonly signals: NodeJS.Signals[];
  /** Whether the process has exited (stdin closed, a signal, or `exit`). */
  readonly exited: boolean;
}

/** Sees every client message; `initialize` is answered for it unless it returns true. */
// biome-ignore lint/suspicious/noConfusingVoidType: handlers that answer nothing in particular return nothing.
export type ScriptedHandler = (message: Msg, server: ScriptedServer) => boolean | undefined | void;

export interface ScriptedRunner extends ProcessRunner {
  readonly servers: ScriptedServer[];
  readonly spawns: Array<{ command: string; args: string[]; options: SpawnOptions }>;
}

/**
 * A `codex app-server` stand-in that answers what the client writes: core's `fakeProcessRunner` plays output on a
 * timeline, while a JSON-RPC peer must react to request ids it cannot know in advance. The handler sees every
 * client message; `initialize` is answered for it unless it answers itself.
 */
export function scriptedAppServer(handler: ScriptedHandler): ScriptedRunner {
  const servers: ScriptedServer[] = [];
  const spawns: ScriptedRunner['spawns'] = [];
  return {
    servers,
    spawns,
    async spawn(command, args, options = {}) {
      spawns.push({ command, args: [...args], options });
      const stdout = new AsyncQueue<Uint8Array>();
      const stderr = new AsyncQueue<Uint8Array>();
      const encoder = new TextEncoder();
      let done = false;
      let resolveExit!: (e: ProcessExit) => void;
      const exited = new Promise<ProcessExit>((r) => (resolveExit = r));
      let buffer = '';
      const server: ScriptedServer = {
        received: [],
        args: [...args],
        signals: [],
        get exited() {
          return done;
        },
        send(message) {
          if (!done) stdout.push(encoder.encode(`${JSON.stringify(message)}\n`));
        },
        stderr(text) {
          if (!done) stderr.push(encoder.encode(`${text}\n`));
        },
        notify(method, params) {
          server.send({ method, params });
        },
        exit(code = 0, signal = null) {
          if (done) return;
          done = true;
          stdout.end();
          stderr.end();
          resolveExit({ code, signal });
        },
      };
      servers.push(server);
      const proc: RunningProcess = {
        pid: 20_000 + servers.length,
        stdout,
        stderr,
        exited,
        stdin: {
          async write(data) {
            buffer += typeof data === 'string' ? data : new TextDecoder().decode(data);
            let nl = buffer.indexOf('\n');
            while (nl >= 0) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              nl = buffer.indexOf('\n');
              const message = JSON.parse(line) as Msg;
              server.received.push(message);
              queueMicrotask(() => {
                if (handler(message, server) !== true && message.method === 'initialize')
                  server.send({ id: message.id, result: { userAgent: 'scripted' } });
              });
            }
          },
          async end() {
            server.exit(0);
          },
        },
        kill(signal: NodeJS.Signals = 'SIGTERM') {
          if (done) return false;
          server.signals.push(signal);
          server.exit(null, signal);
          return true;
        },
      };
      return proc;
    },
  };
}

/**
 * Answers `thread/start` and `thread/fork` (`thread-1`, `thread-2`…), `thread/resume` and `turn/start` (`turn-1`…) as the real server
 * does, then plays `turn` for the turn; other requests get an empty result.
 */
export function threadAndTurn(
  turn: (server: ScriptedServer, ids: { threadId: string; turnId: string }, message: Msg) => void,
): ScriptedHandler {
  let turns = 0;
  let threads = 0;
  return (m, server) => {
    if (m.method === 'thread/start' || m.method === 'thread/resume')
      server.send({ id: m.id, result: { thread: { id: m.params.threadId ?? `thread-${++threads}` } } });
    else if (m.method === 'thread/fork') server.send({ id: m.id, result: { thread: { id: `thread-${++threads}` } } });
    else if (m.method === 'turn/start') {
      const turnId = `turn-${++turns}`;
      server.send({ id: m.id, result: { turn: { id: turnId, status: 'inProgress', items: [], error: null } } });
      turn(server, { threadId: m.params.threadId, turnId }, m);
    } else if (m.id !== undefined && m.method && m.method !== 'initialize') server.send({ id: m.id, result: {} });
  };
}

export const completed = (threadId: string, turnId: string, status = 'completed', error: unknown = null) => ({
  method: 'turn/completed',
  params: { threadId, turn: { id: turnId, status, items: [], error } },
});
