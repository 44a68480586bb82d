import type { JsonSchema } from './output-schema.js';
import type { OutputCheckResult } from './output-validator.js';
import type { RunOutcome } from './run.js';

/** How the adapter honours `outputSchema`: the program itself, or core's instruction-and-parse. */
export type StructuredOutputMode = 'native' | 'emulated';

/** The instruction an emulating adapter's prompt gets, so the model answers with JSON alone. */
export function withOutputInstruction(prompt: string, schema: JsonSchema): string {
  return `${prompt}\n\nAnswer with only a JSON value that matches this JSON Schema (no prose before or after it, no code fence):\n${JSON.stringify(schema)}`;
}

/** The prompt of a repair turn: what was wrong, and (when emulated) the schema again. */
export function repairPrompt(errors: string[], schema: JsonSchema, mode: StructuredOutputMode): string {
  const what = `Your answer did not match the required JSON Schema: ${errors.join('; ')}.`;
  return mode === 'emulated'
    ? `${what}\n\nAnswer again with only the corrected JSON value, matching this JSON Schema (no prose, no code fence):\n${JSON.stringify(schema)}`
    : `${what}\n\nAnswer again with the corrected structured output.`;
}

/**
 * The answer of one turn: a native adapter's `output` (the program's own structured answer); otherwise — emulated,
 * or a native program that answered in text only — the final message parsed as JSON.
 */
export function answerOf(outcome: RunOutcome, lastMessage: string, mode: StructuredOutputMode): OutputCheckResult {
  if (mode === 'native' && outcome.output !== undefined) return { ok: true, value: outcome.output };
  return parseJsonAnswer(outcome.text ?? lastMessage);
}

// A model asked for bare JSON still often wraps it in a Markdown fence; one fence around the whole answer is let go.
const FENCED = /^```[a-zA-Z]*[ \t]*\r?\n([\s\S]*?)\r?\n?```$/;

/** The final text as JSON: the whole text (or one code fence around all of it), nothing extracted from prose. */
export function parseJsonAnswer(text: string): OutputCheckResult {
  const trimmed = text.trim();
  const body = FENCED.exec(trimmed)?.[1]?.trim() ?? trimmed;
  if (body === '') return { ok: false, errors: ['the answer was empty; expected a JSON value'] };
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [`the answer is not JSON (${reason})`] };
  }
}
