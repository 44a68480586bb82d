import { TransportError } from '@forge/core';
import { TransportCodes } from './errors.js';
import type { SessionCall, SessionReply } from './gen/forge/agent/v1/agent_pb.js';
import type { SessionCallChannel } from './session-call-client.js';

/** Codes a call gets when the stream it went on stopped carrying the run, so it is worth asking the next one. */
const MOVED_CODES = new Set<string>([TransportCodes.TRANSPORT_BROKEN, 'SESSION_STORE_ABSENT']);

/**
 * The session channel of one linked run. It follows the run across a handover: while the run is detached its
 * calls wait (at most `parkMs`, the detached-run time limit) and go to the stream that attaches it. A call that
 * was on the old stream when the run left it, and failed because that stream stopped carrying the run, is asked
 * again on the new one (saves and loads of one turn are repeatable: a save writes the same bytes at the same offset).
 */
export class RunSessionChannel implements SessionCallChannel {
  private moves = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private current: SessionCallChannel | undefined,
    private readonly parkMs: number,
  ) {}

  /** The run left its stream: calls wait for the next. */
  park(): void {
    this.current = undefined;
    this.moves++;
  }

  /** The run is on `channel` now: waiting calls go there. */
  moveTo(channel: SessionCallChannel): void {
    this.current = channel;
    this.moves++;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async call(runId: string, op: SessionCall['op']): Promise<SessionReply[]> {
    for (;;) {
      const channel = this.current ?? (await this.next(runId));
      const moves = this.moves;
      try {
        const replies = await channel.call(runId, op);
        const error = replies[0]?.result.case === 'error' ? replies[0].result.value : undefined;
        if (error && MOVED_CODES.has(error.code) && this.moves !== moves) continue;
        return replies;
      } catch (error) {
        if (this.moves !== moves && MOVED_CODES.has((error as { code?: string }).code ?? '')) continue;
        throw error;
      }
    }
  }

  private next(runId: string): Promise<SessionCallChannel> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(this.current!);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(
          new TransportError(
            TransportCodes.DEADLINE_EXCEEDED,
            `Run ${runId} was detached and no client took it over within ${this.parkMs} ms to answer the session store`,
          ),
        );
      }, this.parkMs);
      timer.unref?.();
      this.waiters.push(wake);
    });
  }
}
