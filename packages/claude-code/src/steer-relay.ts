import { CoreErrorCode, ForgeError, type Steerer } from '@forge/core';

/**
 * `run.steer()` needs its handler installed as the run function starts, but a turn can take a steering message
 * only once its process is up and its prompt written. The relay is installed at once and hands each message to
 * the turn that attaches (a warm process that died is replaced, and the next turn attaches again), waiting for
 * one until the run stops.
 */
export class SteerRelay {
  private handler: Steerer | undefined;
  private markReady!: () => void;
  private readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));

  constructor(
    private readonly runId: string,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.markReady(), { once: true });
  }

  attach(handler: Steerer): void {
    this.handler = handler;
    this.markReady();
  }

  readonly steer: Steerer = async (text) => {
    await this.ready;
    if (!this.handler || this.signal.aborted)
      throw new ForgeError(CoreErrorCode.RUN_FINISHED, `Run ${this.runId} has already ended`, 'conflict');
    return this.handler(text);
  };
}
