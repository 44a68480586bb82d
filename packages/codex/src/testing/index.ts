export {
  startFakeResponsesApi,
  defaultResponsesResponder,
  lastUserText,
  toolOutputText,
  offeredTools,
  inputImages,
  splitDeltas,
  FAKE_RESPONSES_MODEL,
  type FakeResponsesApi,
  type FakeResponsesApiOptions,
  type FakeResponsesRequest,
  type FakeResponsesReply,
  type FakeResponsesResponder,
} from './fake-responses-api.js';
export { codexBinPath, fakeResponsesProvider } from './env.js';
export { outputRepairScenario, REPAIR_MARKER, runawayScenario } from './fake-scenarios.js';
