export {
  startFakeGeminiApi,
  defaultGeminiResponder,
  mcpToolReply,
  imagesReply,
  jsonReply,
  schemaInPrompt,
  geminiLastUserText,
  valueForSchema,
  type FakeGeminiApi,
  type FakeGeminiApiOptions,
  type FakeGeminiImage,
  type FakeGeminiReply,
  type FakeGeminiRequest,
  type FakeGeminiResponder,
} from './fake-gemini-api.js';
export { fakeGeminiEnv, geminiBinPath, claudeCodeAcpPath } from './env.js';
