import { create } from '@bufbuild/protobuf';
import { TransportError } from '@forge/core';
import { TransportCodes } from './errors.js';
import { SessionCallSchema, type SessionCall, type SessionReply } from './gen/forge/agent/v1/agent_pb.js';

/** How the served agent's session store reaches the client of one run (see linkedSessionStore). */
export interface SessionCallChannel {
  /** Sends the call and resolves with its replies once the last has come (a load's parts end with `more` unset). */
  call(runId: string, op: SessionCall['op']): Promise<SessionReply[]>;
}

interface Waiting {
  replies: SessionReply[];
  resolve(replies: SessionReply[]): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The calls of one stream (a Connect stream, a dial-home link) waiting for their replies. A call unanswered for
 * `timeoutMs` (counted again from each part of a load) fails DEADLINE_EXCEEDED; the stream ending fails them all.
 */
export class SessionCallClient implements SessionCallChannel {
  private readonly waiting = new Map<string, Waiting>();
  private next = 0;
  private gone: Error | undefined;

  constructor(
    private readonly send: (call: SessionCall) => void,
    private readonly timeoutMs: number,
    private readonly target: string,
  ) {}

  call(runId: string, op: SessionCall['op']): Promise<SessionReply[]> {
    if (this.gone) return Promise.reject(this.gone);
    const callId = `s${++this.next}`;
    return new Promise((resolve, reject) => {
      const entry: Waiting = { replies: [], resolve, reject, timer: this.arm(callId) };
      this.waiting.set(callId, entry);
      this.send(create(SessionCallSchema, { callId, runId, op }));
    });
  }

  /** One SessionReply from the client; false when it answers no waiting call. */
  reply(reply: SessionReply): boolean {
    const entry = this.waiting.get(reply.callId);
    if (!entry) return false;
    clearTimeout(entry.timer);
    entry.replies.push(reply);
    if (reply.result.case === 'snapshot' && reply.result.value.more) {
      entry.timer = this.arm(reply.callId);
      return true;
    }
    this.waiting.delete(reply.callId);
    entry.resolve(entry.replies);
    return true;
  }

  /** The stream ended: waiting calls fail, later ones too. */
  close(): void {
    this.gone = new TransportError(
      TransportCodes.TRANSPORT_BROKEN,
      `The link to ${this.target} ended before it answered the session store`,
    );
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(this.gone);
    }
    this.waiting.clear();
  }

  private arm(callId: string): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      const entry = this.waiting.get(callId);
      if (!entry) return;
      this.waiting.delete(callId);
      entry.reject(
        new TransportError(
          TransportCodes.DEADLINE_EXCEEDED,
          `${this.target} did not answer the session store within ${this.timeoutMs} ms`,
        ),
      );
    }, this.timeoutMs);
    timer.unref?.();
    return timer;
  }
}
