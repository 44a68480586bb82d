/**
 * @forge/core/internal — building blocks the other Forge packages (and the repository's benchmarks) share.
 *
 * Not public API: anything here may change or disappear in any release, including patch releases, without
 * notice. Applications should use `@forge/core` (and `@forge/core/testing` in tests) only.
 */
export { EventQueue, type EventQueueOptions } from './event-queue.js';
export { RelayedRun, type RelayedRunOptions, type RunLink, type LocalEnd } from './relayed-run.js';
