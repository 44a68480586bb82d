import type { AgentRun } from '@forge/core';
import { createUIMessageStream, type IdGenerator, type UIMessage, type UIMessageStreamOnFinishCallback } from 'ai';
import type { ForgeDataParts, ForgeMessageMetadata } from './data-parts.js';
import { type ChunkMapperOptions, type ForgeUIMessageChunk, UIMessageChunkMapper } from './ui-message-chunk-mapper.js';

/** A Forge run as a UI message: for `useChat<ForgeUIMessage>()` and `readUIMessageStream<ForgeUIMessage>()`. */
export type ForgeUIMessage = UIMessage<ForgeMessageMetadata, ForgeDataParts>;

export interface ToUIMessageStreamOptions extends ChunkMapperOptions {
  /**
   * Cancel the run when the stream's reader cancels it (the browser went away, `useChat`'s `stop()`).
   * Default true: a run nobody watches any more should not go on spending.
   */
  cancelRunOnAbort?: boolean;
  /** The AI SDK's: the text of an `error` chunk for an exception while streaming (default: a generic message). */
  onError?: (error: unknown) => string;
  /** The AI SDK's: the conversation so far; the stream then gives the response message an id (persistence). */
  originalMessages?: ForgeUIMessage[];
  /** The AI SDK's: called with the finished messages once the stream has ended (to persist them). */
  onFinish?: UIMessageStreamOnFinishCallback<ForgeUIMessage>;
  /** The AI SDK's: makes the response message's id, with `originalMessages`. */
  generateId?: IdGenerator;
}

/**
 * A run's events as the AI SDK's UI message stream, built with the `ai` package's own `createUIMessageStream`:
 * text and reasoning parts, a dynamic tool part per tool call, `data-file-change`, `data-plan`,
 * `data-permission`, `data-question` and `data-error` parts, run metadata, then `finish` (a failed run sends an
 * `error` chunk, a cancelled one `abort`). Reads the run's events: iterate the run here or elsewhere, not both.
 */
export function toUIMessageStream(
  run: AgentRun,
  options: ToUIMessageStreamOptions = {},
): ReadableStream<ForgeUIMessageChunk> {
  const { sendReasoning, sendMetadata, sendStart, sendFinish, cancelRunOnAbort = true, ...streamOptions } = options;
  const mapper = new UIMessageChunkMapper(run, { sendReasoning, sendMetadata, sendStart, sendFinish });
  const stream = createUIMessageStream<ForgeUIMessage>({
    ...streamOptions,
    async execute({ writer }) {
      // The AI SDK's writer queues without backpressure (as streamText's does): the run's events are read as
      // they come and wait in the stream, not in the run's bounded buffer.
      for (const chunk of mapper.start()) writer.write(chunk);
      for await (const event of run) {
        for (const chunk of mapper.map(event)) writer.write(chunk);
        if (event.type === 'run.completed') {
          // ai 7 reports an outcome to onEnd/onFinish; ai 5 has no setOutcome.
          const { status } = event.result;
          (writer as { setOutcome?: (outcome: { status: string }) => void }).setOutcome?.(
            status === 'completed'
              ? { status: 'completed' }
              : { status: status === 'cancelled' ? 'aborted' : 'failed' },
          );
        }
      }
    },
  });
  if (!cancelRunOnAbort) return stream;
  const reader = stream.getReader();
  return new ReadableStream<ForgeUIMessageChunk>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await Promise.all([reader.cancel(reason), run.cancel('the UI message stream was cancelled')]);
    },
  });
}
