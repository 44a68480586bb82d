import type { AgentRun } from '@forge/core';
import { createUIMessageStreamResponse } from 'ai';
import { type ToUIMessageStreamOptions, toUIMessageStream } from './to-ui-message-stream.js';

/** `ResponseInit` (status, headers) and the AI SDK's response options (`keepAliveMs`, `consumeSseStream`). */
export type UIMessageStreamResponseInit = Omit<Parameters<typeof createUIMessageStreamResponse>[0], 'stream'>;

export type ToUIMessageStreamResponseOptions = UIMessageStreamResponseInit & ToUIMessageStreamOptions;

// toUIMessageStream's own options, by name; the rest (`status`, `headers`, `keepAliveMs`…) go to the `ai`
// package's response. A record of every key, so the compiler refuses this list when an option is added.
const STREAM_OPTIONS: Record<keyof ToUIMessageStreamOptions, true> = {
  sendReasoning: true,
  sendMetadata: true,
  sendStart: true,
  sendFinish: true,
  cancelRunOnAbort: true,
  onError: true,
  originalMessages: true,
  onFinish: true,
  generateId: true,
};

/**
 * A run as the HTTP response `useChat` reads: the UI message stream as server-sent events, with the AI SDK's
 * headers, made by the `ai` package's own `createUIMessageStreamResponse`. Return it from a route handler.
 */
export function toUIMessageStreamResponse(run: AgentRun, options: ToUIMessageStreamResponseOptions = {}): Response {
  const streamOptions: Record<string, unknown> = {};
  const init: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options))
    (Object.hasOwn(STREAM_OPTIONS, key) ? streamOptions : init)[key] = value;
  return createUIMessageStreamResponse({
    ...(init as UIMessageStreamResponseInit),
    stream: toUIMessageStream(run, streamOptions),
  });
}
