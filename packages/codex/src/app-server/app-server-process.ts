import type { ProcessExit, ProcessRunner, RunningProcess, SpawnOptions } from '@forge/core';
import { exitWithin, readLines, settledWithin, stopProcess, type StopGrace, TailBuffer } from '@forge/core/internal';
import type { InitializeResponse } from '../gen/InitializeResponse.js';
import type { RequestId } from '../gen/RequestId.js';
import { ConnectionClosedError, JsonRpcClient } from './json-rpc-client.js';
import type { SpareThread } from './spare-thread.js';

/** The server exited before the handshake was done (bad config, no native binary…). */
export class AppServerExitedError extends Error {
  constructor(
    readonly exit: ProcessExit,
    readonly stderr: string,
  ) {
    super(`the Codex app server exited during the handshake${stderr ? `: ${stderr}` : ''}`);
    this.name = 'AppServerExitedError';
  }
}

/** One thread's share of the server's traffic, while a run drives it. */
export interface ThreadListener {
  notification(method: string, params: Record<string, unknown>): void;
  request(id: RequestId, method: string, params: Record<string, unknown>): void;
  /** The server exited (or its stdout closed) while the thread was listening. */
  closed(): void;
}

export interface AppServerStart {
  runner: ProcessRunner;
  bin: string;
  args: string[];
  spawn: SpawnOptions;
  maxLineBytes?: number | undefined;
  stderrTailBytes?: number | undefined;
  /** Where lines the server prints outside the protocol go (stderr, stray stdout). */
  log?: (text: string) => void;
}

const CLIENT_INFO = { name: 'forge', title: 'Forge', version: '0.1.0' };

/**
 * One `codex app-server` process and the threads loaded in it. Messages carrying a `threadId` go to that
 * thread's listener; a thread has at most one (one run at a time drives it).
 */
export class AppServerProcess {
  /** Threads started or resumed in this process: a next turn needs no `thread/resume`. */
  /** Each loaded thread, with the MCP servers it was loaded with (their config, as JSON). */
  readonly loaded = new Map<string, string>();
  /** A new thread started ahead of need (prewarmed agents only), for the next new session that matches it. */
  spare: SpareThread | undefined;
  readonly stderr: TailBuffer;
  private readonly listeners = new Map<string, ThreadListener>();
  private exitedFlag = false;
  readonly rpc: JsonRpcClient;
  private readonly stderrDone: Promise<void>;

  private constructor(
    readonly proc: RunningProcess,
    options: AppServerStart,
  ) {
    this.stderr = new TailBuffer(options.stderrTailBytes ?? 4096);
    this.rpc = new JsonRpcClient(
      proc,
      {
        notification: (method, params) => this.listenerOf(params)?.notification(method, params),
        request: (id, method, params) => {
          const listener = this.listenerOf(params);
          if (listener) listener.request(id, method, params);
          else void this.rpc.respondError(id, -32601, `forge has no handler for ${method} here`).catch(() => undefined);
        },
        stray: (text) => options.log?.(text),
      },
      options.maxLineBytes,
    );
    this.stderrDone = readLines(
      proc.stderr,
      (text) => options.log?.(text),
      (chunk) => this.stderr.push(chunk),
    ).catch(() => undefined);
    const onClosed = () => {
      this.exitedFlag = true;
      for (const l of [...this.listeners.values()]) l.closed();
      this.listeners.clear();
    };
    void Promise.race([proc.exited, this.rpc.done]).then(onClosed, onClosed);
  }

  /** Spawns the server and completes the handshake (`initialize`, then `initialized`). */
  static async start(options: AppServerStart): Promise<AppServerProcess> {
    const proc = await options.runner.spawn(options.bin, options.args, options.spawn);
    const server = new AppServerProcess(proc, options);
    try {
      // Experimental: `thread/backgroundTerminals/clean`, the only way to end an interrupted turn's commands.
      await server.rpc.request<InitializeResponse>('initialize', {
        clientInfo: CLIENT_INFO,
        capabilities: { experimentalApi: true, requestAttestation: false },
      });
      await server.rpc.notify('initialized');
    } catch (error) {
      const exit = await stopProcess(proc, { sigintGraceMs: 0, sigtermGraceMs: 1_000 }, 'SIGTERM');
      if (!(error instanceof ConnectionClosedError)) throw error;
      // It exited during the handshake: what it said on stderr (read to its end) is the reason.
      await settledWithin(server.stderrDone, 1_000);
      throw new AppServerExitedError(exit, server.stderr.text());
    }
    return server;
  }

  get alive(): boolean {
    return !this.exitedFlag && !this.rpc.isClosed;
  }

  busy(threadId: string): boolean {
    return this.listeners.has(threadId);
  }

  get active(): number {
    return this.listeners.size;
  }

  /** Routes a thread's messages to `listener` until the returned function is called. */
  listen(threadId: string, listener: ThreadListener): () => void {
    this.listeners.set(threadId, listener);
    if (!this.alive) queueMicrotask(() => listener.closed());
    return () => {
      if (this.listeners.get(threadId) === listener) this.listeners.delete(threadId);
    };
  }

  /** Ends the process (SIGTERM, then SIGKILL): its tools go with it. */
  async stop(grace: StopGrace): Promise<void> {
    this.exitedFlag = true;
    if (await exitWithin(this.proc, 0)) return;
    await this.proc.stdin.end().catch(() => undefined);
    await stopProcess(this.proc, grace, 'SIGTERM');
  }

  private listenerOf(params: Record<string, unknown>): ThreadListener | undefined {
    const id =
      typeof params.threadId === 'string'
        ? params.threadId
        : ((params.thread as { id?: unknown } | undefined)?.id as string | undefined);
    return id === undefined ? undefined : this.listeners.get(id);
  }
}
