export { toUIMessageStream, type ForgeUIMessage, type ToUIMessageStreamOptions } from './to-ui-message-stream.js';
export {
  toUIMessageStreamResponse,
  type ToUIMessageStreamResponseOptions,
  type UIMessageStreamResponseInit,
} from './to-ui-message-stream-response.js';
export { UIMessageChunkMapper, type ChunkMapperOptions, type ForgeUIMessageChunk } from './ui-message-chunk-mapper.js';
export type {
  FileChangeData,
  ForgeDataParts,
  ForgeMessageMetadata,
  PermissionData,
  PlanData,
  QuestionData,
  RunErrorData,
} from './data-parts.js';
