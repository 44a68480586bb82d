import { jsonLineItems, JsonLinesParser, type JsonLineItem, type JsonLinesOptions } from '@forge/core/internal';

export { DEFAULT_MAX_LINE_BYTES } from '@forge/core/internal';

/** One native message of the CLI's `--output-format stream-json` (a JSON object with a `type`). */
export interface ClaudeMessage {
  type: string;
  subtype?: string;
  [key: string]: unknown;
}

/**
 * What the parser finds on one line: a message, a line that is not a JSON object (a warning the
 * CLI printed), or a line longer than the cap (skipped, its size reported).
 */
export type StreamJsonItem = JsonLineItem<{ kind: 'message'; message: ClaudeMessage }>;

export type StreamJsonOptions = JsonLinesOptions;

// An object without a string `type` still goes on as a message: the mapper passes it through.
const toMessage = (value: unknown) => ({ kind: 'message' as const, message: value as ClaudeMessage });

/** Core's JSON-lines parser, with each JSON object as a `message` item; see `JsonLinesParser`. */
export class StreamJsonParser extends JsonLinesParser<{ kind: 'message'; message: ClaudeMessage }> {
  constructor(onItem: (item: StreamJsonItem) => void, options: StreamJsonOptions = {}) {
    super(onItem, toMessage, options);
  }
}

/** Parses a stream of stdout chunks (bytes or strings) into stream-json items, incrementally. */
export function parseStreamJson(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: StreamJsonOptions = {},
): AsyncIterable<StreamJsonItem> {
  return jsonLineItems(chunks, (onItem: (item: StreamJsonItem) => void) => new StreamJsonParser(onItem, options));
}
