import type { AgentRun } from '@forge/core';
import { createUIMessageStreamResponse } from 'ai';
import { type ToUIMessageStreamOptions, toUIMessageStream } from './to-ui-message-stream.js';

/** `ResponseInit` (status, headers) and the AI SDK's response options (`keepAliveMs`, `consumeSseStream`). */
export type UIMessageStreamResponseInit = Omit<Parameters<typeof createUIMessageStreamResponse>[0], 'stream'>;

export type ToUIMessageStreamResponseOptions = UIMessageStreamResponseInit & ToUIMessageStreamOptions;

/**
 * A run as the HTTP response `useChat` reads: the UI message stream as server-sent events, with the AI SDK's
 * headers, made by the `ai` package's own `createUIMessageStreamResponse`. Return it from a route handler.
 */
export function toUIMessageStreamResponse(run: AgentRun, options: ToUIMessageStreamResponseOptions = {}): Response {
  const {
    sendReasoning,
    sendMetadata,
    sendStart,
    sendFinish,
    cancelRunOnAbort,
    onError,
    originalMessages,
    onFinish,
    generateId,
    ...init
  } = options;
  const stream = toUIMessageStream(run, {
    sendReasoning,
    sendMetadata,
    sendStart,
    sendFinish,
    cancelRunOnAbort,
    onError,
    originalMessages,
    onFinish,
    generateId,
  });
  return createUIMessageStreamResponse({ ...init, stream });
}
