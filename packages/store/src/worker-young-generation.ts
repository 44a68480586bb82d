import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';

/** The value of `--max-semi-space-size` this process was started with (its node flags or NODE_OPTIONS), if any. */
function semiSpaceFlag(): string | undefined {
  // NODE_OPTIONS is applied before the command line's flags: the last one given wins.
  const words = [...(process.env.NODE_OPTIONS ?? '').split(/\s+/), ...process.execArgv];
  let value: string | undefined;
  words.forEach((word, i) => {
    const match = /^--max[-_]semi[-_]space[-_]size(?:=(\d+))?$/.exec(word);
    if (match) value = match[1] ?? words[i + 1];
  });
  return value !== undefined && /^\d+$/.test(value) ? value : undefined;
}

/**
 * Starts a worker whose young generation is the one its `resourceLimits` ask for. V8 flags are the
 * process's, and `--max-semi-space-size` (the platform's `pnpm start` sets 8 MB for its own thread)
 * overrides a worker's `maxYoungGenerationSizeMb`: the PGlite worker, asked for 4 MB, got 16 MB of
 * new space, 8–12 MB of it resident while idle. The flag is cleared while the worker's isolate is
 * made (until it is online) and then put back; an isolate another worker makes in that moment gets
 * V8's default.
 */
export function startWithOwnYoungGeneration(start: () => Worker): Worker {
  const flag = semiSpaceFlag();
  if (flag === undefined) return start();
  const restore = () => v8.setFlagsFromString(`--max-semi-space-size=${flag}`);
  v8.setFlagsFromString('--max-semi-space-size=0');
  let worker: Worker;
  try {
    worker = start();
  } catch (error) {
    restore();
    throw error;
  }
  let restored = false;
  const once = () => {
    if (restored) return;
    restored = true;
    restore();
  };
  worker.once('online', once);
  worker.once('exit', once);
  return worker;
}
