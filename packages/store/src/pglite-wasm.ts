import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';

let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * PGlite's WebAssembly, compiled once per process. PGlite caches its compiled module per isolate,
 * so each worker compiled the 9 MB again (~1.5 s of CPU per open); a compiled module posted to a
 * worker shares its code instead.
 */
export function pgliteWasm(): Promise<WebAssembly.Module> {
  compiled ??= compile().catch((error: unknown) => {
    compiled = undefined;
    throw error;
  });
  return compiled;
}

async function compile(): Promise<WebAssembly.Module> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const bytes = await readFile(join(dirname(entry), 'pglite.wasm'));
  try {
    return await WebAssembly.compile(bytes);
  } finally {
    releaseNow(bytes.buffer);
  }
}

/**
 * Frees `buffer`'s memory now rather than at a GC. The module keeps its own copy of the bytes; these 9 MB
 * would wait for a scavenge of this thread's young generation (16 MB with the platform's
 * `--max-semi-space-size=8`), which an idle process may not run for a long time (measured: 9.2 MB of array
 * buffers still allocated 3 s after the platform served). Moved into a message that is never received, they
 * are freed with the channel's ports when these close.
 */
function releaseNow(buffer: ArrayBuffer): void {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [buffer]);
  port1.close();
  port2.close();
}
