export {
  startFakeResponsesApi,
  defaultResponsesResponder,
  lastUserText,
  toolOutputText,
  offeredTools,
  inputImages,
  FAKE_RESPONSES_MODEL,
  type FakeResponsesApi,
  type FakeResponsesApiOptions,
  type FakeResponsesRequest,
  type FakeResponsesReply,
  type FakeResponsesResponder,
} from './fake-responses-api.js';
// The fakes' one way of cutting a text into stream deltas (core's, shared with the other fake APIs).
export { splitDeltas } from '@forge/core/testing';
export { codexBinPath, fakeResponsesProvider } from './env.js';
export { outputRepairScenario, REPAIR_MARKER, runawayScenario } from './fake-scenarios.js';
