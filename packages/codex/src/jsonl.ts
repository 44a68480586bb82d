import { JsonLinesParser, type JsonLineItem, type JsonLinesOptions } from '@forge/core/internal';

export { DEFAULT_MAX_LINE_BYTES } from '@forge/core/internal';

/** One native event of `codex exec --json` (a JSON object with a `type`). */
export interface CodexEvent {
  type: string;
  [key: string]: unknown;
}

/**
 * What the parser finds on one line: an event (an `object` item), a line that is not a JSON object (something
 * the CLI printed), or a line longer than the cap (skipped, its size reported).
 */
export type CodexJsonlItem = JsonLineItem<CodexEvent>;

export type CodexJsonlOptions = JsonLinesOptions;

/**
 * Core's JSON-lines parser, with each JSON object as a `CodexEvent`; see `JsonLinesParser`. An object without a
 * string `type` still goes on: the mapper logs it as unmapped.
 */
export class CodexJsonlParser extends JsonLinesParser<CodexEvent> {}

/** Parses chunks (bytes or strings) into items, incrementally; for tests and tools. */
export function parseCodexJsonl(
  chunks: Iterable<Uint8Array | string>,
  options: CodexJsonlOptions = {},
): CodexJsonlItem[] {
  const out: CodexJsonlItem[] = [];
  const parser = new CodexJsonlParser((item) => out.push(item), options);
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return out;
}
