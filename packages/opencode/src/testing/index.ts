export {
  startFakeOpenAiApi,
  defaultReply,
  lastUserText,
  afterToolResult,
  type FakeOpenAiApi,
  type FakeOpenAiApiOptions,
  type FakeReply,
  type ChatRequest,
} from './fake-openai-api.js';
export {
  fakeOpencodeConfig,
  writeFakeOpencodeConfig,
  isolatedOpencodeEnv,
  opencodeBinPath,
  FAKE_MODEL,
  FAKE_PLAIN_MODEL,
  FAKE_GPT_MODEL,
  FAKE_PRICED_MODEL,
  FAKE_PROVIDER,
} from './config.js';
export { sseFrames, sseBody } from './sse.js';
export {
  mcpNonceTool,
  callMcpNonce,
  answerJson,
  imagesReceived,
  reportImages,
  opencodeTools,
  outputRepairReply,
  REPAIR_MARKER,
  runawayReply,
  STRUCTURED_OUTPUT_TOOL,
  type FakeTodo,
} from './fake-scenarios.js';
