export { createLocalAgent, GEMINI_PASS_ENV, type LocalAgentOptions, type LocalAgentSettings } from './local-agent.js';
