import type { Logger } from './logger.js';

export interface StopOnSignalsOptions {
  /** The program's name in its log lines: `<name> stopping`, `<name> stopped`, `<name> failed to stop cleanly`. */
  name: string;
  logger: Logger;
  /** Stops the program's parts; the fields of the object it returns, if any, are logged with `<name> stopped`. */
  stop(why: string): Promise<unknown>;
  /** More fields for the `<name> stopping` line. */
  fields?: Record<string, unknown>;
}

export interface SignalledStop {
  /** Stops for another reason than a signal (once; later calls return the same promise). */
  stop(why: string): Promise<void>;
  /** Whether a stop has begun. */
  readonly stopping: boolean;
}

/**
 * How a Forge program ends: the first SIGTERM or SIGINT stops it (`stop`, then exit 0; exit 1 if stopping
 * throws), a second one exits 1 at once without waiting for the first to finish.
 */
export function stopOnSignals(options: StopOnSignalsOptions): SignalledStop {
  const { name, logger } = options;
  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      logger.info(`${name} stopping`, { why, ...options.fields });
      const stopped = await options.stop(why);
      logger.info(`${name} stopped`, typeof stopped === 'object' && stopped !== null ? { ...stopped } : {});
      process.exit(0);
    })().catch((error: unknown) => {
      logger.error(`${name} failed to stop cleanly`, { error: String(error) });
      process.exit(1);
    });
    return stopping;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      // A second signal means "now": give up on the first one's stop.
      if (stopping) {
        logger.warn('second signal: exiting now', { signal });
        process.exit(1);
      }
      void stop(signal);
    });
  }
  return {
    stop,
    get stopping() {
      return stopping !== undefined;
    },
  };
}
