import {
  defaultResponsesResponder,
  type FakeResponsesRequest,
  type FakeResponsesResponder,
} from './fake-responses-api.js';

/**
 * A runaway: runs a shell command on every model call (`command(n)` for the n-th, from 1), whatever the last one
 * printed, so only a budget, a cancel or a timeout stops the turn. Requests it does not own (`done(req)` true,
 * e.g. a follow-up prompt on the resumed thread) get the default answer.
 */
export function runawayScenario(
  command: (n: number) => string,
  done: (req: FakeResponsesRequest) => boolean = () => false,
): FakeResponsesResponder {
  let calls = 0;
  return (req) => (done(req) ? defaultResponsesResponder(req) : { shell: command(++calls) });
}

/** The words every repair prompt of core starts with ("Your answer did not match the required JSON Schema: …"). */
export const REPAIR_MARKER = 'did not match the required JSON Schema';

/**
 * Structured output that needs core's repair turn: answers `first` as JSON text until the newest user message is
 * core's repair prompt, then `repaired`. `repaired` not matching either makes an answer that never matches.
 */
export function outputRepairScenario(first: unknown, repaired: unknown): FakeResponsesResponder {
  let repairing = false;
  return (req) => {
    if (req.lastUserText.includes(REPAIR_MARKER)) repairing = true;
    return { text: JSON.stringify(repairing ? repaired : first) };
  };
}
