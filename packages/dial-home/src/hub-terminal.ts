import { TransportError, type AttachExit, type AttachedProcess, type TerminalSize } from '@forge/core';
import { forgeErrorFromInfo } from '@forge/transport-grpc/internal';
import type { TerminalDown, TerminalUp } from './gen/forge/dialhome/v1/dialhome_pb.js';
import { TERMINAL_CHUNK } from './wire.js';

/** Sends one TerminalDown body of this terminal to the agent (`kind` names its subject). */
export type TerminalSend = (kind: string, body: TerminalDown['body']) => void;

/**
 * One stream of a terminal's output as the platform reads it: chunks wait here only within the
 * credit granted to the agent, and each chunk a reader takes is granted back (in quarters of the
 * window), so the agent sends no faster than the reader reads.
 */
class OutputQueue {
  readonly stream: ReadableStream<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #done = false;
  #error: Error | undefined;
  #cancelled = false;
  #wake: (() => void) | undefined;

  constructor(private readonly consumed: (bytes: number) => void) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (!this.#chunks.length && !this.#done) await new Promise<void>((r) => (this.#wake = r));
          const chunk = this.#chunks.shift();
          if (chunk) {
            controller.enqueue(chunk);
            this.consumed(chunk.byteLength);
          } else if (this.#error) controller.error(this.#error);
          else controller.close();
        },
        cancel: () => {
          this.#cancelled = true;
          this.#done = true;
          const queued = this.#chunks.reduce((n, c) => n + c.byteLength, 0);
          this.#chunks = [];
          if (queued) this.consumed(queued);
        },
      },
      // Nothing read ahead: a chunk leaves the queue (and its credit goes back) only when a reader asks.
      { highWaterMark: 0 },
    );
  }

  push(chunk: Uint8Array): void {
    if (this.#cancelled || this.#done) {
      this.consumed(chunk.byteLength);
      return;
    }
    this.#chunks.push(chunk);
    this.#wake?.();
  }

  end(error?: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    this.#wake?.();
  }
}

/**
 * The platform's side of a terminal opened on a remote agent, as core's AttachedProcess: stdout
 * and stderr as paced streams (credit-based: what a slow reader has not taken holds the agent's
 * process), stdin sent within the agent's credit, resize, kill and the exit status.
 */
export class HubTerminal implements AttachedProcess {
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly exited: Promise<AttachExit>;
  tty = false;
  notes: readonly string[] = [];
  /** Resolves once the agent opened it; rejects with its refusal. */
  readonly opened: Promise<void>;
  readonly #send: TerminalSend;
  readonly #window: number;
  readonly #out: OutputQueue;
  readonly #err: OutputQueue;
  /** Output bytes received and not yet granted back: never more than the window. */
  #unreturned = 0;
  #toGrant = 0;
  #stdinCredit = 0;
  #stdinWake: (() => void) | undefined;
  #exit: AttachExit | undefined;
  #killed = false;
  #resolveExit!: (exit: AttachExit) => void;
  #resolveOpened!: () => void;
  #rejectOpened!: (error: Error) => void;
  #isOpen = false;

  constructor(send: TerminalSend, outputWindow: number) {
    this.#send = send;
    this.#window = outputWindow;
    this.exited = new Promise((r) => (this.#resolveExit = r));
    this.opened = new Promise((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    this.opened.catch(() => {});
    const consumed = (n: number) => this.#consumed(n);
    this.#out = new OutputQueue(consumed);
    this.#err = new OutputQueue(consumed);
    this.stdout = this.#out.stream;
    this.stderr = this.#err.stream;
    this.stdin = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        let rest = chunk;
        while (rest.byteLength > 0) {
          while (this.#stdinCredit <= 0 && !this.#exit) await new Promise<void>((r) => (this.#stdinWake = r));
          // The process is gone: what it did not take is dropped, as a closed pipe would.
          if (this.#exit) return;
          const n = Math.min(rest.byteLength, this.#stdinCredit, TERMINAL_CHUNK);
          this.#stdinCredit -= n;
          // Copied: the caller may reuse its buffer once the write resolves, and this is queued.
          this.#send('stdin', { case: 'stdin', value: rest.slice(0, n) });
          rest = rest.subarray(n);
        }
      },
      close: () => {
        if (!this.#exit) this.#send('stdin', { case: 'stdinEof', value: true });
      },
      abort: () => {
        if (!this.#exit) this.#send('stdin', { case: 'stdinEof', value: true });
      },
    });
  }

  #consumed(n: number): void {
    if (this.#exit) return;
    this.#toGrant += n;
    if (this.#toGrant < this.#window / 4) return;
    const grant = this.#toGrant;
    this.#toGrant = 0;
    this.#unreturned -= grant;
    this.#send('credit', { case: 'outputCredit', value: grant });
  }

  /** A message from the agent for this terminal. Returns a protocol complaint, if any. */
  handle(up: TerminalUp): string | undefined {
    const body = up.body;
    switch (body.case) {
      case 'opened':
        this.tty = body.value.tty;
        this.notes = [...body.value.notes];
        this.#stdinCredit = body.value.stdinWindow;
        this.#isOpen = true;
        this.#resolveOpened();
        return undefined;
      case 'refused':
        this.#finish({ code: null, signal: null }, forgeErrorFromInfo(body.value));
        return undefined;
      case 'stdout':
      case 'stderr': {
        this.#unreturned += body.value.byteLength;
        if (this.#unreturned > this.#window) {
          this.kill();
          return `terminal ${up.terminalId} sent output beyond its credit`;
        }
        (body.case === 'stdout' ? this.#out : this.#err).push(body.value);
        return undefined;
      }
      case 'stdinCredit':
        this.#stdinCredit += body.value;
        this.#stdinWake?.();
        return undefined;
      case 'exit':
        this.#finish({ code: body.value.code ?? null, signal: body.value.signal || null });
        return undefined;
      default:
        return undefined;
    }
  }

  /** The link dropped: the agent ends the process on its side; here the streams end with the reason. */
  linkLost(message: string): void {
    const error = new TransportError('TRANSPORT_BROKEN', `The link to the agent dropped: ${message}`);
    this.#finish({ code: null, signal: 'SIGKILL' }, error, true);
  }

  #finish(exit: AttachExit, error?: Error, broken = false): void {
    if (this.#exit) return;
    this.#exit = exit;
    if (!this.#isOpen) this.#rejectOpened(error ?? new TransportError('TRANSPORT_BROKEN', 'The terminal ended'));
    this.#out.end(broken ? error : undefined);
    this.#err.end(broken ? error : undefined);
    this.#stdinWake?.();
    this.#resolveExit(exit);
  }

  resize(size: TerminalSize): void {
    if (!this.#exit)
      this.#send('resize', { case: 'resize', value: { $typeName: 'forge.dialhome.v1.TerminalSize', ...size } });
  }

  kill(): void {
    if (this.#exit || this.#killed) return;
    this.#killed = true;
    this.#send('kill', { case: 'kill', value: true });
  }
}
