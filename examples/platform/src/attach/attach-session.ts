import type { AttachExit, AttachedProcess } from '@forge/core';
import type { WebSocket } from 'ws';
import { CHANNEL, exitStatus, frame, parseResize } from './channel-frames.js';
import { FRAME_BODY, FramePool } from './frame-pool.js';
import { ReplayBuffer } from './replay-buffer.js';

export interface AttachSessionOptions {
  id: string;
  userId: string;
  agentId: string;
  process: AttachedProcess;
  /** How long a process outlives its dropped connection, waiting for the client to come back. */
  graceMs: number;
  /** No frame either way for this long ends the process. */
  idleMs: number;
  /** Output kept while detached, for the client that re-attaches. */
  replayBytes: number;
  /** Bytes queued on a socket before output waits for the client to read. */
  highWaterMark: number;
  /** Once: the process is gone and the session is over. */
  onEnd(end: { exit: AttachExit | undefined; reason: 'exited' | 'grace' | 'idle' | 'closed' }): void;
}

/**
 * One process opened for a person and the WebSocket (at most one at a time) watching it. Output
 * goes to the socket at the pace the client reads it — the process blocks meanwhile — and into a
 * bounded replay buffer while no one is attached.
 */
export class AttachSession {
  readonly #o: AttachSessionOptions;
  #ws: WebSocket | undefined;
  readonly #replay: ReplayBuffer;
  #grace: ReturnType<typeof setTimeout> | undefined;
  readonly #idle: ReturnType<typeof setTimeout>;
  #exit: AttachExit | undefined;
  #outputDone = false;
  #ended = false;
  #stopReason: 'grace' | 'idle' | 'closed' | undefined;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #wake: (() => void) | undefined;
  readonly #frames = new FramePool();

  constructor(options: AttachSessionOptions) {
    this.#o = options;
    this.#replay = new ReplayBuffer(options.replayBytes);
    this.#stdin = options.process.stdin.getWriter();
    this.#stdin.closed.catch(() => {});
    this.#idle = setTimeout(() => this.stop('idle'), options.idleMs);
    this.#idle.unref();
    const pumps = [
      this.#pump(CHANNEL.stdout, options.process.stdout),
      this.#pump(CHANNEL.stderr, options.process.stderr),
    ];
    void Promise.all(pumps).then(async () => {
      this.#exit = await options.process.exited;
      this.#outputDone = true;
      this.#finishIfWatched();
    });
  }

  get id(): string {
    return this.#o.id;
  }
  get userId(): string {
    return this.#o.userId;
  }
  get attached(): boolean {
    return this.#ws !== undefined;
  }

  /** Hands the session a (new) socket: what was missed first, then live output. */
  attach(ws: WebSocket): void {
    clearTimeout(this.#grace);
    this.#grace = undefined;
    this.#ws = ws;
    this.#idle.refresh();
    for (const { channel, data } of this.#replay.drain().chunks) ws.send(frame(channel, data));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(ws, data, isBinary));
    ws.on('close', () => this.#detach(ws));
    ws.on('error', () => ws.terminate());
    this.#wake?.();
    this.#finishIfWatched();
  }

  /** Ends the process (and its tree); the session ends once its output is drained. */
  stop(reason: 'grace' | 'idle' | 'closed'): void {
    this.#stopReason ??= reason;
    this.#o.process.kill();
    // Idle: the status frame still tells the client why, once the output is drained.
    if (reason === 'closed') this.#ws?.close(1001, 'the platform is shutting down');
  }

  #onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    this.#idle.refresh();
    // Text frames come from base64 clients (base64.channel.k8s.io), which this endpoint does not offer.
    if (!isBinary || data.length === 0) return;
    const channel = data[0];
    const body = data.subarray(1);
    if (channel === CHANNEL.stdin) {
      if (body.length === 0) return;
      // The socket stops being read while the process is not taking input: the client's sends queue in TCP.
      ws.pause();
      this.#stdin.write(new Uint8Array(body)).then(
        () => ws.resume(),
        () => ws.resume(),
      );
    } else if (channel === CHANNEL.resize) {
      const size = parseResize(body);
      if (size) this.#o.process.resize(size);
    } else if (channel === CHANNEL.close && body[0] === CHANNEL.stdin) {
      this.#stdin.close().catch(() => {});
    }
  }

  #detach(ws: WebSocket): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    if (this.#ended) return;
    if (this.#stopReason) {
      this.#end();
      return;
    }
    // The connection dropped: the process lives on for a grace period, its output kept, in case the client comes back.
    this.#grace = setTimeout(() => {
      this.#grace = undefined;
      if (this.#outputDone) this.#end();
      else this.stop('grace');
    }, this.#o.graceMs);
    this.#grace.unref();
  }

  async #pump(channel: number, stream: ReadableStream<Uint8Array>): Promise<void> {
    let byob: ReadableStreamBYOBReader | undefined;
    try {
      byob = stream.getReader({ mode: 'byob' });
    } catch {
      // Not a byte stream (a dial-home terminal's): its chunks are copied into frames.
    }
    const chunks = byob ? undefined : stream.getReader();
    const reader = byob ?? chunks!;
    try {
      for (;;) {
        // A byte stream copies the output straight into a pooled frame, after the channel byte: no allocation per
        // chunk and one copy (the GC's share of the platform's CPU fell from ~a third to ~nothing, see frame-pool.ts).
        const { value, done } = byob ? await byob.read(this.#frames.body()) : await chunks!.read();
        if (done) return;
        if (value.byteLength === 0) continue;
        await this.#deliver(channel, value, byob !== undefined);
      }
    } catch {
      // The process was killed mid-read: what it wrote is lost with it.
    } finally {
      reader.releaseLock();
    }
  }

  /** `pooled`: `data` was read into `this.#frames.body()`. */
  async #deliver(channel: number, data: Uint8Array, pooled: boolean): Promise<void> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== ws.OPEN) {
      // Kept by the replay buffer: a pooled body's memory stays with it.
      this.#replay.push(channel, data);
      // Detached and the buffer full: keep reading (the oldest output falls out) rather than stall the process forever.
      return;
    }
    this.#idle.refresh();
    if (pooled) return this.#send(ws, this.#frames.frameOf(channel, data));
    // One frame per chunk (larger ones in FRAME_BODY pieces), the channel byte copied in front into a pooled
    // buffer. Two fragments (channel byte, then the data uncopied) cost more than the copy: twice the frames and
    // socket writes here, and a client that joins the fragments copies anyway (profiled: 2–3× this process's CPU
    // per MiB, +50% the client's).
    for (let at = 0; at < data.byteLength; at += FRAME_BODY)
      await this.#send(ws, this.#frames.frame(channel, data.subarray(at, at + FRAME_BODY)));
  }

  async #send(ws: WebSocket, frame: Buffer): Promise<void> {
    if (ws.bufferedAmount < this.#o.highWaterMark) {
      ws.send(frame, () => this.#frames.give(frame));
      return;
    }
    // The client is behind: wait until this frame is on the wire before reading more of the process's output.
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      ws.send(frame, () => {
        this.#frames.give(frame);
        resolve();
      });
    });
  }

  #finishIfWatched(): void {
    if (!this.#outputDone || this.#ended) return;
    const ws = this.#ws;
    if (!ws) {
      // Exited unwatched: kept until the grace period ends, so a returning client sees how it ended.
      if (!this.#grace || this.#stopReason) this.#end();
      return;
    }
    const exit = this.#exit ?? { code: null, signal: 'SIGKILL' };
    const reason = this.#stopReason === 'idle' ? 'ended after the idle timeout' : undefined;
    if (ws.readyState === ws.OPEN) {
      ws.send(frame(CHANNEL.status, JSON.stringify(exitStatus(exit, reason))));
      ws.close(1000);
    }
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#grace);
    clearTimeout(this.#idle);
    this.#o.process.kill();
    const reason = this.#stopReason ?? 'exited';
    this.#o.onEnd({ exit: reason === 'exited' ? this.#exit : (this.#exit ?? undefined), reason });
  }
}
