export * from './errors.js';
export * from './error-codes.js';
export * from './request.js';
export * from './mcp-server.js';
export * from './output-schema.js';
export * from './run-policies.js';
export * from './agent-policy-options.js';
export type { OutputCheck, OutputCheckResult } from './output-validator.js';
export type { StructuredOutputMode } from './structured-output.js';
export type { Spent } from './budget-meter.js';
export * from './events.js';
export {
  boundValue,
  MAX_EVENT_DEPTH,
  MAX_EVENT_NODES,
  type BoundOptions,
  type TruncatedValue,
} from './bounded-value.js';
export * from './agent.js';
export * from './request-features.js';
export { relayDeclaration, UNRELAYED_FEATURES } from './relay-declaration.js';
export * from './process-runner.js';
export { stderrTeeRunner } from './stderr-tee-runner.js';
export {
  DEFAULT_INHERITED_ENV,
  isInherited,
  localProcessRunner,
  type LocalProcessRunnerOptions,
} from './local-process-runner.js';
export { lookupOsUser, userSwitchProblem, type OsUser } from './os-user.js';
export { reapOrphanProcesses, type ReapResult } from './process-ledger.js';
export { PROCESS_TAG_VAR } from './process-tree.js';
export { cwdProblem } from './cwd-check.js';
export type { CliAgentOptions, CliProcessOptions } from './cli-agent-options.js';
export {
  startRun,
  type RunContext,
  type RunFunction,
  type RunOptions,
  type RunOutcome,
  type StartRunOptions,
  type StopReason,
  type PermissionResponder,
  type QuestionAnswerer,
  type Steerer,
} from './run.js';
export type { PendingRequest } from './pending-requests.js';
export { createCodeAgent, type AgentDefinition } from './create-code-agent.js';
export * from './session-store.js';
export { memorySessionStore } from './memory-session-store.js';
export { fileSessionStore } from './file-session-store.js';
export type { PortableSession, SessionExportLayout, SessionFilesLayout } from './session-portability.js';
export type { RunnerFiles } from './runner-files.js';
export {
  createProviderRegistry,
  type ProviderRegistry,
  type ProviderRegistryOptions,
  type AgentFactory,
  type AgentFactoryContext,
} from './registry.js';
export * from './clock.js';
export type { BackoffOptions } from './backoff.js';
export * from './logger.js';
export * from './id-generator.js';
export * from './workspace-attach.js';
export { localWorkspaceAttach, type LocalWorkspaceAttachOptions } from './local-workspace-attach.js';
export { loginShellOf } from './login-shell.js';
export { pacedReadable, type PausableSource } from './paced-readable.js';
export type { PtyModule, PtyProcess } from './pty-module.js';
