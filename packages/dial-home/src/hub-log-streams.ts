import { randomUUID } from 'node:crypto';
import { TransportError } from '@forge/core';
import { AsyncQueue } from '@forge/core/internal';
import { TransportCodes } from '@forge/transport-grpc';
import type { LogLines } from './gen/forge/dialhome/v1/dialhome_pb.js';

export interface AgentLogsReadOptions {
  /** The latest lines to start with. */
  tail: number;
  /** Keep going with new lines until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
}

interface Stream {
  queue: AsyncQueue<string>;
  /** Characters of the lines waiting in `queue`. */
  waiting: number;
  answered: boolean;
  ended: boolean;
  failure?: Error;
}

/**
 * What waits for a slow reader, in lines and characters; past it the newest are dropped (a log reader is not owed
 * every line). The agent is not trusted to bound what it sends: lines are cut here too.
 */
const MAX_WAITING = 10_000;
const MAX_WAITING_CHARS = 4 << 20;
const MAX_LINE = 8_192;

/**
 * The platform side of the agents' log reads over one Attach stream: each read is a LogsRequest with a stream
 * id, answered by LogLines carrying it (the last one with `end`). A read the agent does not answer at all
 * within `answerTimeoutMs` (an agent program older than logs) fails; a reader that goes sends `stop`.
 */
export class HubLogStreams {
  private readonly streams = new Map<string, Stream>();
  private closed: Error | undefined;

  constructor(
    private readonly send: (streamId: string, request: { tail: number; follow: boolean; stop: boolean }) => void,
    private readonly name: string,
    private readonly answerTimeoutMs: number,
  ) {}

  async *read(options: AgentLogsReadOptions): AsyncGenerator<string> {
    if (this.closed) throw this.closed;
    const { signal } = options;
    if (signal?.aborted) return;
    const id = randomUUID();
    const stream: Stream = { queue: new AsyncQueue<string>(), waiting: 0, answered: false, ended: false };
    this.streams.set(id, stream);
    const tail = Math.max(0, Math.floor(options.tail));
    this.send(id, { tail, follow: options.follow ?? false, stop: false });
    const timer = setTimeout(() => {
      if (stream.answered) return;
      stream.failure = new TransportError(
        TransportCodes.DEADLINE_EXCEEDED,
        `Agent ${this.name} did not answer for its log within ${this.answerTimeoutMs} ms (an agent program older than logs?)`,
      );
      stream.queue.end();
    }, this.answerTimeoutMs);
    timer.unref?.();
    const onAbort = () => stream.queue.end();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const line of stream.queue) {
        stream.waiting -= line.length;
        if (signal?.aborted) break;
        yield line;
      }
      if (stream.failure) throw stream.failure;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.streams.delete(id);
      if (!stream.ended && !this.closed) this.send(id, { tail: 0, follow: false, stop: true });
    }
  }

  /** LogLines from the agent. Lines of a stream nobody reads any more are dropped. */
  deliver(message: LogLines): void {
    const stream = this.streams.get(message.streamId);
    if (!stream) return;
    stream.answered = true;
    for (const raw of message.lines) {
      const line = raw.length > MAX_LINE ? `${raw.slice(0, MAX_LINE)}…` : raw;
      if (stream.queue.size >= MAX_WAITING || stream.waiting + line.length > MAX_WAITING_CHARS) continue;
      stream.waiting += line.length;
      stream.queue.push(line);
    }
    if (message.end) {
      stream.ended = true;
      stream.queue.end();
    }
  }

  /** The session ended: every read ends with this error. */
  close(error: Error): void {
    this.closed = error;
    for (const stream of this.streams.values()) {
      stream.failure ??= stream.answered ? undefined : error;
      stream.ended = true;
      stream.queue.end();
    }
  }
}
