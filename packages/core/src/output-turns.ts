import { CoreErrorCode } from './error-codes.js';
import { addUsage, type FileChange } from './events.js';
import type { OutputCheck } from './output-validator.js';
import type { AgentRequest } from './request.js';
import type { RunOutcome } from './run.js';
import { answerOf, repairPrompt, withOutputInstruction, type StructuredOutputMode } from './structured-output.js';

export const OUTPUT_SCHEMA_MISMATCH = CoreErrorCode.OUTPUT_SCHEMA_MISMATCH;

/** What one turn of the adapter's run function gave: its outcome and the last `message` text it emitted. */
export interface TurnOutcome {
  outcome: RunOutcome;
  lastMessage: string;
}

export interface OutputTurnsOptions {
  request: AgentRequest & { outputSchema: Record<string, unknown> };
  mode: StructuredOutputMode;
  check: OutputCheck;
  /** Calls the adapter's run function once with this request. */
  runTurn(request: AgentRequest): Promise<TurnOutcome>;
  /** True once the run is stopping (cancelled, timed out, stopped by a policy): no more turns then. */
  stopping(): boolean;
  /** The session announced so far, for a repair turn when the outcome names none. */
  sessionId(): string | undefined;
  /** Told about each mismatch: `final` when no repair follows. */
  onMismatch(errors: string[], final: boolean): void;
}

/**
 * Runs the request and checks its answer against `outputSchema`; a mismatch gets a repair turn in the same
 * session (`outputRepairs`, default 1), and is still a mismatch after that: the run fails OUTPUT_SCHEMA_MISMATCH
 * with the validator's errors. Every turn's events are the same run's, so seq stays one sequence.
 */
export async function runOutputTurns(options: OutputTurnsOptions): Promise<RunOutcome> {
  const { request, mode, check } = options;
  const repairs = request.outputRepairs ?? 1;
  let turnRequest: AgentRequest =
    mode === 'emulated' ? { ...request, prompt: withOutputInstruction(request.prompt, request.outputSchema) } : request;
  let merged: RunOutcome | undefined;
  for (let attempt = 0; ; attempt++) {
    const { outcome, lastMessage } = await options.runTurn(turnRequest);
    merged = merged ? mergeOutcomes(merged, outcome) : { ...outcome };
    if (options.stopping() || (outcome.status ?? 'completed') !== 'completed') {
      delete merged.output;
      return merged;
    }
    const answer = answerOf(outcome, lastMessage, mode);
    const checked = answer.ok ? check(answer.value) : answer;
    if (checked.ok) return { ...merged, output: checked.value };
    const sessionId = outcome.sessionId ?? options.sessionId();
    const final = attempt >= repairs || sessionId === undefined;
    options.onMismatch(checked.errors, final);
    if (final) {
      delete merged.output;
      const tries = attempt === 0 ? '' : ` after ${attempt} repair turn${attempt === 1 ? '' : 's'}`;
      return {
        ...merged,
        status: 'failed',
        error: {
          code: OUTPUT_SCHEMA_MISMATCH,
          message: `The answer did not match outputSchema${tries}: ${checked.errors.join('; ')}`,
        },
      };
    }
    // The repair continues the same session with words only: attachments were sent, a fork has been made.
    const { attachments: _a, fork: _f, ...rest } = request;
    turnRequest = { ...rest, sessionId, prompt: repairPrompt(checked.errors, request.outputSchema, mode) };
  }
}

/** One outcome for several turns: the last turn's answer and status, the sums of what they spent. */
export function mergeOutcomes(a: RunOutcome, b: RunOutcome): RunOutcome {
  const out: RunOutcome = { ...b };
  const sessionId = b.sessionId ?? a.sessionId;
  if (sessionId !== undefined) out.sessionId = sessionId;
  // Only when both turns say: otherwise the run's own sum of `usage` events is the better figure.
  if (a.usage && b.usage) out.usage = addUsage(a.usage, b.usage);
  else delete out.usage;
  if (a.costUsd !== undefined || b.costUsd !== undefined) out.costUsd = (a.costUsd ?? 0) + (b.costUsd ?? 0);
  if (a.turns !== undefined || b.turns !== undefined) out.turns = (a.turns ?? 0) + (b.turns ?? 0);
  if (a.filesChanged || b.filesChanged) {
    const byPath = new Map<string, FileChange>();
    for (const f of [...(a.filesChanged ?? []), ...(b.filesChanged ?? [])]) byPath.set(f.path, f);
    out.filesChanged = [...byPath.values()];
  }
  return out;
}
