import type { Logger, ProcessExit, RunningProcess } from '@forge/core';
import { controlError, controlRequest, readControlRequest, type IncomingControlRequest } from './control-protocol.js';
import { exitWithin, readLines, stopProcess, TailBuffer, type StopGrace } from '@forge/core/internal';
import { StreamJsonParser, type ClaudeMessage, type StreamJsonItem } from './stream-json.js';

/** Who gets the CLI's output while a turn runs. */
export interface TurnListener {
  /** A stdout item that is not part of the control protocol; false asks the reader to wait (`drained`). */
  item(item: StreamJsonItem): boolean;
  /** A control request the CLI sent (`can_use_tool`…); returns false when the listener does not handle it. */
  controlRequest(req: IncomingControlRequest, raw: ClaudeMessage): boolean;
  /** The CLI withdrew a control request (after an interrupt). */
  controlCancel(requestId: string): void;
  stderrLine(line: string): void;
  /** Resolves when the reader may go on; a stopping turn resolves at once. */
  drained(): Promise<void>;
  /** stdout has ended: the process is gone or going. */
  closed(): void;
}

export interface ClaudeProcessOptions {
  maxLineBytes?: number | undefined;
  stderrTailBytes: number;
  grace: StopGrace;
  /** How long the CLI may take to exit after stdin closes before it is stopped. */
  exitGraceMs: number;
  logger: Logger;
}

/**
 * One live CLI process in stream-json input mode. It reads stdout for its whole life and hands each line to
 * the turn that is running (one at a time), answers the control protocol's bookkeeping itself (responses to
 * its own requests, requests nobody handles), and can be stopped politely (stdin closed) or by signals.
 */
export class ClaudeProcess {
  /** Set once the process has exited. */
  exit: ProcessExit | undefined;
  /** Set once stdout has ended. */
  stdoutEnded = false;
  readonly stderrTail: TailBuffer;
  private listener: TurnListener | undefined;
  private readonly outgoing = new Map<string, (response: ClaudeMessage | undefined) => void>();
  private nextId = 0;
  private writing: Promise<void> = Promise.resolve();
  private stopping: Promise<ProcessExit> | undefined;
  /** Reading starts with the first turn, so nothing the CLI prints early goes unheard. */
  private reading: Promise<void> | undefined;
  private stderrReading: Promise<void> | undefined;

  constructor(
    readonly proc: RunningProcess,
    private readonly options: ClaudeProcessOptions,
  ) {
    this.stderrTail = new TailBuffer(options.stderrTailBytes);
    void proc.exited.then((e) => {
      this.exit = e;
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** The process can take another turn: it has not exited and its output is open. */
  get alive(): boolean {
    return this.exit === undefined && !this.stdoutEnded && this.stopping === undefined;
  }

  attach(listener: TurnListener): void {
    this.listener = listener;
    this.reading ??= this.readStdout().catch((error: unknown) => {
      this.options.logger.warn('claude-code: reading stdout failed', { error: String(error) });
    });
    this.stderrReading ??= this.readStderr().catch(() => undefined);
  }

  detach(listener: TurnListener): void {
    if (this.listener === listener) this.listener = undefined;
  }

  /** Writes one JSON line to stdin; writes keep their order. Rejects when the process cannot take it. */
  send(message: unknown): Promise<void> {
    const line = `${JSON.stringify(message)}\n`;
    const next = this.writing.then(() => this.proc.stdin.write(line));
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Sends a control request; resolves with the CLI's `control_response` (never rejects; undefined if unsent). */
  request(request: Record<string, unknown>): Promise<ClaudeMessage | undefined> {
    const id = `forge-${++this.nextId}`;
    return new Promise((resolve) => {
      this.outgoing.set(id, resolve);
      this.send(controlRequest(id, request)).catch(() => {
        this.outgoing.delete(id);
        resolve(undefined);
      });
    });
  }

  /**
   * Ends the process: stdin closed first (the CLI exits 0 once its queued turns are done), then, if it lingers,
   * SIGTERM and SIGKILL. `hard` skips the polite step.
   */
  end(hard = false): Promise<ProcessExit> {
    this.stopping ??= (async () => {
      if (!hard && this.exit === undefined) {
        await this.writing;
        await this.proc.stdin.end().catch(() => undefined);
        const exit = await exitWithin(this.proc, this.options.exitGraceMs);
        if (exit) return exit;
      }
      return (
        (await exitWithin(this.proc, 0)) ?? stopProcess(this.proc, this.options.grace, hard ? 'SIGKILL' : 'SIGTERM')
      );
    })();
    return this.stopping;
  }

  /** Stops the process with the signal ladder (SIGINT → SIGTERM → SIGKILL), for a CLI that does not answer. */
  kill(): Promise<ProcessExit> {
    this.stopping ??= stopProcess(this.proc, this.options.grace, 'SIGINT');
    return this.stopping;
  }

  /** Resolves once stdout has been read to its end, and stderr too (for the tail) or `stderrWaitMs` has passed. */
  async done(stderrWaitMs = 1_000): Promise<void> {
    await this.reading;
    // stderr normally ends with the process; a grandchild holding it open must not hold the run.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.stderrReading, new Promise((resolve) => (timer = setTimeout(resolve, stderrWaitMs)))]);
    clearTimeout(timer);
  }

  private async readStdout(): Promise<void> {
    const items: StreamJsonItem[] = [];
    const parser = new StreamJsonParser(
      (item) => items.push(item),
      this.options.maxLineBytes === undefined ? {} : { maxLineBytes: this.options.maxLineBytes },
    );
    try {
      for await (const chunk of this.proc.stdout) {
        parser.push(chunk);
        if (await this.dispatch(items.splice(0))) await this.listener?.drained();
      }
      parser.end();
      await this.dispatch(items.splice(0));
    } finally {
      this.stdoutEnded = true;
      for (const resolve of this.outgoing.values()) resolve(undefined);
      this.outgoing.clear();
      this.listener?.closed();
    }
  }

  /** Hands items out; true when the listener asked to wait. */
  private async dispatch(items: StreamJsonItem[]): Promise<boolean> {
    let behind = false;
    for (const item of items) {
      if (item.kind === 'object') {
        const msg = item.value;
        if (msg.type === 'control_response') {
          const id = (msg.response as { request_id?: unknown } | undefined)?.request_id;
          const resolve = typeof id === 'string' ? this.outgoing.get(id) : undefined;
          if (resolve) {
            this.outgoing.delete(id as string);
            resolve(msg);
          }
          continue;
        }
        if (msg.type === 'control_cancel_request') {
          if (typeof msg.request_id === 'string') this.listener?.controlCancel(msg.request_id);
          continue;
        }
        if (msg.type === 'control_request') {
          const req = readControlRequest(msg);
          if (!req) {
            this.options.logger.warn('claude-code: malformed control request', { message: msg });
            continue;
          }
          if (!this.listener?.controlRequest(req, msg)) {
            // Hooks, MCP messages…: nothing here registered any, so the CLI is told rather than left waiting.
            this.options.logger.warn('claude-code: unsupported control request', { subtype: req.subtype });
            await this.send(controlError(req.requestId, `unsupported control request: ${req.subtype}`)).catch(
              () => undefined,
            );
          }
          continue;
        }
      }
      if (this.listener) {
        if (!this.listener.item(item)) behind = true;
      } else {
        this.options.logger.debug('claude-code: output between turns', { item });
      }
    }
    return behind;
  }

  private readStderr(): Promise<void> {
    return readLines(
      this.proc.stderr,
      (line) => {
        if (this.listener) this.listener.stderrLine(line);
        else this.options.logger.warn('claude-code: stderr between turns', { line });
      },
      (chunk) => this.stderrTail.push(chunk),
    );
  }
}
