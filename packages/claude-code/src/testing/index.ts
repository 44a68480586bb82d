export {
  startFakeAnthropicApi,
  defaultResponder,
  lastUserText,
  toolResultText,
  FAKE_MODEL,
  type FakeAnthropicApi,
  type FakeApiAttachment,
  type FakeAnthropicApiOptions,
  type FakeApiRequest,
  type FakeReply,
  type FakeResponder,
} from './fake-anthropic-api.js';
// The fakes' one way of cutting a text into stream deltas (core's, shared with the other fake APIs).
export { splitDeltas } from '@forge/core/testing';
export { fakeAnthropicEnv, claudeBinPath } from './env.js';
export {
  FakeClaudeCli,
  fakeClaudeRunner,
  FAKE_SESSION,
  type FakeClaudeCall,
  type FakeClaudeOptions,
  type FakeClaudeRunner,
  type FakeClaudeStep,
} from './fake-claude-cli.js';
export {
  attachmentsScenario,
  callToolScenario,
  mcpNonceScenario,
  outputRepairScenario,
  REPAIR_MARKER,
  runawayScenario,
  structuredOutputScenario,
  STRUCTURED_OUTPUT_TOOL,
} from './fake-scenarios.js';
