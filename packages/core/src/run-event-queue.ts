import { AsyncQueue } from './async-queue.js';
import { CoreErrorCode } from './error-codes.js';
import { ForgeError } from './errors.js';
import type { AgentEvent } from './events.js';

/** The queue between a run and its one reader, with the run's own error codes. */
export function runEventQueue(highWaterMark: number, maxBuffered: number): AsyncQueue<AgentEvent> {
  return new AsyncQueue<AgentEvent>({
    highWaterMark,
    maxBuffered,
    overflowError: (max) =>
      new ForgeError(
        CoreErrorCode.EVENT_BUFFER_OVERFLOW,
        `More than ${max} events are waiting to be read; the run is stopped rather than drop any`,
        'internal',
      ),
    iteratedError: () =>
      new ForgeError(
        CoreErrorCode.RUN_ALREADY_ITERATED,
        'A run can be iterated once; fan its events out yourself',
        'conflict',
      ),
  });
}
