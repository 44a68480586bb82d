export {
  startFakeGeminiApi,
  defaultGeminiResponder,
  geminiLastUserText,
  valueForSchema,
  type FakeGeminiApi,
  type FakeGeminiApiOptions,
  type FakeGeminiReply,
  type FakeGeminiRequest,
  type FakeGeminiResponder,
} from './fake-gemini-api.js';
export { fakeGeminiEnv, geminiBinPath, claudeCodeAcpPath } from './env.js';
