import { ForgeError, NotFoundError } from '@forge/core';
import type { ConnectStream } from './connect-commands.js';
import type { LiveRun } from './service-state.js';

/** Codes of the handover commands' refusals (CommandError). */
export const HandoverCodes = {
  /** No run of that id is detached here (never detached, ended long ago, or its time ran out). */
  RUN_NOT_FOUND: 'RUN_NOT_FOUND',
  /** Another stream carries the run. */
  RUN_ATTACHED: 'RUN_ATTACHED',
  /** Events after the client's last one are no longer buffered: taking the run over would leave a gap. */
  EVENTS_LOST: 'EVENTS_LOST',
} as const;

/** Puts an attached run on `stream`: from then on its end settles the stream like a run started there. */
export function bindRun(stream: ConnectStream, runId: string, entry: LiveRun): void {
  stream.mine.set(runId, entry);
  void entry.done.then(() => {
    if (stream.mine.get(runId) !== entry) return;
    stream.mine.delete(runId);
    stream.maybeEnd();
  });
}

/**
 * DetachCommand: the run leaves `stream` but keeps going, its events buffered, for an attach within the
 * server's detached-run time limit; past it, the run is cancelled and forgotten.
 */
export function detachRun(stream: ConnectStream, runId: string): void {
  const { state } = stream;
  const entry = stream.mine.get(runId);
  if (!entry) throw new NotFoundError(HandoverCodes.RUN_NOT_FOUND, `No run ${runId} is on this stream`, { runId });
  stream.mine.delete(runId);
  entry.tap.detach();
  // Its session calls wait for the stream that takes it over (the old one may be gone by then).
  entry.sessions?.park();
  const timer = setTimeout(() => {
    if (state.detached.get(runId)?.entry !== entry) return;
    state.detached.delete(runId);
    state.logger.warn('no client took the detached run over in time; cancelling it', { runId });
    void entry.run.cancel('no client re-attached to the run in time');
  }, state.detachedRunTtlMs);
  timer.unref?.();
  state.detached.set(runId, { entry, timer });
  state.logger.info('run detached from its stream', { runId });
}

/** AttachCommand: a detached run onto `stream`, its buffered events after `afterSeq` first. */
export function attachRun(stream: ConnectStream, runId: string, afterSeq: number): void {
  const { state } = stream;
  const parked = state.detached.get(runId);
  if (!parked) {
    if (state.live.has(runId))
      throw new ForgeError(HandoverCodes.RUN_ATTACHED, `Run ${runId} is carried by another stream`, 'conflict', {
        details: { runId },
      });
    throw new NotFoundError(HandoverCodes.RUN_NOT_FOUND, `No detached run ${runId} is here`, { runId });
  }
  if (!parked.entry.tap.attach(stream.outbox, afterSeq)) {
    throw new ForgeError(
      HandoverCodes.EVENTS_LOST,
      `Events of run ${runId} after ${afterSeq} are no longer buffered (the oldest kept is ${parked.entry.tap.firstBufferedSeq})`,
      'conflict',
      { details: { runId, afterSeq, firstBufferedSeq: parked.entry.tap.firstBufferedSeq } },
    );
  }
  clearTimeout(parked.timer);
  state.detached.delete(runId);
  parked.entry.sessions?.moveTo(stream.sessions);
  bindRun(stream, runId, parked.entry);
  state.logger.info('run attached to a stream', { runId, afterSeq });
}
