export { conformanceScript } from './conformance-script.js';
export { scriptedAgent, sampleScript, type ScriptStep, type ScriptedAgentOptions } from './scripted-agent.js';
export {
  fakeProcessRunner,
  type FakeProcessRunner,
  type FakeProcessScript,
  type FakeProcessCall,
  type OutputStep,
  type SignalReaction,
} from './fake-process-runner.js';
// The conformance suite imports vitest, so it lives at '@forge/core/testing/conformance': these doubles stay usable in
// production code (a demo's scripted provider) without a test runner installed.
export { collectRun, firstEvent, runProblems } from './collect.js';
export { delay } from '../delay.js';
export {
  readBody,
  startLoopbackServer,
  type LoopbackAddress,
  type LoopbackServer,
  type LoopbackServerOptions,
} from './loopback-server.js';
export type { FakeHangReply, FakeStatusReply } from './fake-api-reply.js';
export { startFakeApiServer, type FakeApiHandlers, type FakeApiServer, type FakeModelApi } from './fake-api-server.js';
export { readJsonRequest, sendJson, type JsonRequest } from './json-request.js';
export { splitDeltas } from './split-deltas.js';
export { estimateTokens } from './estimate-tokens.js';
export { standInAnswer } from './stand-in-answer.js';
