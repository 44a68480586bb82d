export { createPodManager, type PodManager } from './pod-manager.js';
export { podAgent, type PodAgentOptions } from './pod-agent.js';
export { podWorkspaceAttach, type PodWorkspaceAttachOptions } from './pod-workspace-attach.js';
export {
  KubernetesError,
  isKubernetesError,
  type KubernetesErrorCode,
  type KubernetesErrorOptions,
  type KubernetesOperation,
} from './errors.js';
export type { PodLogsOptions } from './pod-logs.js';
export { MANAGED_BY_LABEL } from './pod-keys.js';
export { DEFAULT_AGENT_PORT, DEFAULT_CONTAINER } from './pod-spec.js';
export type {
  PodId,
  PodSummary,
  PodTemplate,
  PodManagerOptions,
  CreatePodOptions,
  WaitForPodReadyOptions,
  DeletePodOptions,
  DeletePodResult,
  ReapOrphansOptions,
  ExecRunnerOptions,
  SecretKeyRef,
} from './pod-manager-types.js';
