/**
 * @forge/core/internal — building blocks the other Forge packages (and the repository's benchmarks and
 * examples) share: the bounded queue, relayed runs, backoff, abortable delay, pending-request bookkeeping,
 * a free TCP port, and what the CLI adapters share (their options, the JSON-lines parser, the version probe).
 *
 * Not public API: anything here may change or disappear in any release, including patch releases, without
 * notice. Applications should use `@forge/core` (and `@forge/core/testing` in tests) only.
 */
export { AsyncQueue, type AsyncQueueOptions } from './async-queue.js';
export { RelayedRun, type RelayedRunOptions, type RunLink, type LocalEnd } from './relayed-run.js';
export { Backoff, backoffDelay } from './backoff.js';
export { delay } from './delay.js';
export { PendingRequests, checkAnswers, checkAnswerShape, checkDecision } from './pending-requests.js';
export { closestName, editDistance } from './closest-name.js';
export { freePort } from './free-port.js';
export { exitWithin, stopProcess, type StopGrace } from './stop-process.js';
export { TailBuffer } from './tail-buffer.js';
export { joinChunks } from './join-chunks.js';
export { MAX_DIFF_EDITS, wholeFilePatch } from './whole-file-patch.js';
export { readLines } from './read-lines.js';
export { settledWithin } from './settled-within.js';
export { cancelLiveRun } from './cancel-live-run.js';
export { stopOnSignals, type SignalledStop, type StopOnSignalsOptions } from './stop-on-signals.js';
export {
  cliAgentOptions,
  type CliAgentDefaults,
  type ResolvedCliAgentOptions,
} from './cli-agent-options.js';
export {
  byteLength,
  checkMaxLineBytes,
  DEFAULT_MAX_LINE_BYTES,
  jsonLineItems,
  JsonLinesParser,
  type JsonLineItem,
  type JsonLineObject,
  type JsonLineOversize,
  type JsonLinesOptions,
  type JsonLinesParserFactory,
  type JsonLineText,
} from './json-lines.js';
export { lineNoticeEvent } from './line-notice-event.js';
export {
  probedAvailability,
  probeVersion,
  type VersionProbe,
  type VersionProbeOptions,
  type VersionProbeTarget,
} from './version-probe.js';
export { compileApprovals, wildcardTest, type ApprovalMatcher, type RuleDecision } from './approval-rules.js';
export { BudgetMeter, type BudgetVerdict } from './budget-meter.js';
export { OutputValidator, MAX_OUTPUT_ERRORS } from './output-validator.js';
export { parseJsonAnswer, repairPrompt, withOutputInstruction } from './structured-output.js';
export { runnerFiles, type RunnerFiles, type RunnerFilesOptions } from './runner-files.js';
export { withPortableSessions } from './session-portability.js';
export { homeFileSessionLayout, type HomeFileSessionOptions } from './home-file-session-layout.js';
