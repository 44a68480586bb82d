export * from './errors.js';
export * from './request.js';
export * from './events.js';
export * from './agent.js';
export * from './process.js';
export { localProcessRunner, type LocalProcessRunnerOptions } from './local-process-runner.js';
export {
  startRun,
  type RunContext,
  type RunFunction,
  type RunOptions,
  type RunOutcome,
  type StartRunOptions,
  type StopReason,
  type PermissionResponder,
} from './run.js';
export { createCodeAgent, type AgentDefinition } from './define-agent.js';
export { createProviderRegistry, type ProviderRegistry, type AgentFactory } from './registry.js';
export * from './runtime.js';
