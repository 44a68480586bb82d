import { RunExistsError, TransportError } from '@forge/core';
import type { requestFromProto } from './convert-request.js';
import { TransportCodes } from './errors.js';
import { encodeEvent } from './event-codec.js';
import { RunTap } from './run-tap.js';
import type { LiveRun, ServiceState, StreamOutbox } from './service-state.js';
import type { SessionCallChannel } from './session-call-client.js';

export const shuttingDownError = () =>
  new TransportError(TransportCodes.SHUTTING_DOWN, 'The agent is shutting down and takes no new runs', {
    retryable: true,
  });

/**
 * Starts a run and pumps its events into the outbox, reading the run only as fast as the stream writes.
 * Throws (synchronously) when the server is draining, at its `maxRuns`, or already serves `runId`.
 */
export function startRun(
  state: ServiceState,
  input: ReturnType<typeof requestFromProto>,
  runId: string | undefined,
  outbox: StreamOutbox,
  signal?: AbortSignal,
  /** Where the agent's session store calls for this run go (its client keeps the session). */
  sessions?: SessionCallChannel,
): LiveRun {
  const { live, logger, options } = state;
  if (state.draining) throw shuttingDownError();
  if (options.maxRuns !== undefined && live.size >= options.maxRuns) {
    throw new TransportError(
      TransportCodes.BUSY,
      `The agent is running its limit of ${options.maxRuns} runs; try again later`,
      {
        retryable: true,
        details: { maxRuns: options.maxRuns },
      },
    );
  }
  if (runId && live.has(runId)) {
    throw new RunExistsError(runId);
  }
  const start = () => state.agent.execute(input, { ...(runId ? { runId } : {}), ...(signal ? { signal } : {}) });
  const store = options.sessionStore;
  const run = store ? store.bind(runId ?? '', sessions, start) : start();
  // The client routes events by the id it chose; an agent that ignored it is corrected here.
  const id = runId ?? run.id;
  if (run.id !== id) logger.warn('the agent did not use the run id it was given', { requested: id, used: run.id });
  const tap = new RunTap(outbox, state.tapLimits);
  const entry: LiveRun = { run, done: Promise.resolve(), tap };
  live.set(id, entry);
  logger.debug('run started', { runId: id, provider: run.provider });
  void run.result.then((r) => {
    // Ended runs stop counting (maxRuns, status) at once, even while their last events are still being written.
    if (live.get(id) === entry) live.delete(id);
    logger.info('run ended', {
      runId: id,
      status: r.status,
      durationMs: r.durationMs,
      ...(r.error ? { error: r.error.code } : {}),
    });
  });
  entry.done = (async () => {
    try {
      for await (const event of run) {
        if (!tap.push(event.seq, encodeEvent(event.runId === id ? event : { ...event, runId: id })))
          await tap.drained();
      }
    } catch (error) {
      logger.error('reading a run failed', { runId: run.id, error: String(error) });
      await run.cancel('the server could not read the run');
    } finally {
      if (live.get(id) === entry) live.delete(id);
    }
  })();
  return entry;
}
