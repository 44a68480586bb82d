import v8 from 'node:v8';

/**
 * Keeps the embedded database's WebAssembly (PGlite, 9.4 MB of PostgreSQL) on V8's baseline
 * compiler (Liftoff). With the optimising tier on, V8 recompiles PostgreSQL's hottest functions
 * (the parser, the executor's interpreter: huge functions) with TurboFan in the background; that
 * takes 70–90 MB of compiler memory at its peak, which the C allocator keeps after it is freed,
 * so an idle platform held 283–321 MB instead of 236–255 MB (bench/README.md, "Platform
 * footprint"). For the short statements the platform sends, Liftoff's code costs no more CPU in
 * the end (measured: 7.9 vs 8.7–9.3 ms of CPU per run through the queue), because the
 * recompilation itself is no longer paid.
 *
 * A V8 flag is the process's, so only the platform's own entry point sets it, before the store
 * is opened (the flag applies to modules compiled after it is set), and only for the embedded
 * store: on PostgreSQL no WebAssembly runs.
 */
export function wasmBaselineOnly(): void {
  v8.setFlagsFromString('--liftoff-only');
}
