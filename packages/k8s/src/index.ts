export { createPodManager, type PodManager, type PodManagerInternals } from './pod-manager.js';
export { podAgent, type PodAgentOptions } from './pod-agent.js';
export {
  podExecRunner,
  execArgv,
  withPidFile,
  killArgv,
  type PodExecTarget,
  type WebSocketInterface,
} from './exec-runner.js';
export {
  KubernetesError,
  isKubernetesError,
  toKubernetesError,
  type KubernetesErrorCode,
  type KubernetesErrorOptions,
  type KubernetesOperation,
} from './errors.js';
export {
  podNaming,
  validatePodId,
  validateUserId,
  labelValue,
  stableHash,
  MAX_ID_LENGTH,
  type PodNaming,
} from './naming.js';
export { podKeys, MANAGED_BY_LABEL, type PodKeys } from './pod-keys.js';
export { buildPod, DEFAULT_AGENT_PORT, DEFAULT_CONTAINER, type PodSpecInput } from './pod-spec.js';
export { podReadiness, isPodReady, toSummary, type PodReadiness } from './pod-state.js';
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
