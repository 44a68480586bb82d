import { jsonLineItems, JsonLinesParser, type JsonLineItem, type JsonLinesOptions } from '@forge/core/internal';

export { DEFAULT_MAX_LINE_BYTES } from '@forge/core/internal';

/** One native message of the CLI's `--output-format stream-json` (a JSON object with a `type`). */
export interface ClaudeMessage {
  type: string;
  subtype?: string;
  [key: string]: unknown;
}

/**
 * What the parser finds on one line: a message (an `object` item), a line that is not a JSON object (a
 * warning the CLI printed), or a line longer than the cap (skipped, its size reported).
 */
export type StreamJsonItem = JsonLineItem<ClaudeMessage>;

export type StreamJsonOptions = JsonLinesOptions;

/**
 * Core's JSON-lines parser, with each JSON object as a `ClaudeMessage`; see `JsonLinesParser`. An object without
 * a string `type` still goes on as a message: the mapper passes it through.
 */
export class StreamJsonParser extends JsonLinesParser<ClaudeMessage> {}

/** Parses a stream of stdout chunks (bytes or strings) into stream-json items, incrementally. */
export function parseStreamJson(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: StreamJsonOptions = {},
): AsyncIterable<StreamJsonItem> {
  return jsonLineItems(chunks, (onItem: (item: StreamJsonItem) => void) => new StreamJsonParser(onItem, options));
}
