/**
 * @forge/k8s/internal — the pod manager's parts (naming, pod specs, readiness, exec over the Kubernetes
 * WebSocket protocol) and its test seams, for the other Forge packages and the repository's benchmarks.
 *
 * Not public API: anything here may change or disappear in any release, including patch releases, without
 * notice. Applications should use `@forge/k8s` (and `@forge/k8s/testing` in tests) only.
 */
export type { PodManagerInternals } from './pod-manager.js';
export {
  podExecRunner,
  execArgv,
  withPidFile,
  killArgv,
  type PodExecTarget,
  type WebSocketInterface,
} from './exec-runner.js';
export { toKubernetesError } from './errors.js';
export {
  podNaming,
  validatePodId,
  validateUserId,
  labelValue,
  stableHash,
  MAX_ID_LENGTH,
  type PodNaming,
} from './naming.js';
export { podKeys, type PodKeys } from './pod-keys.js';
export { buildPod, type PodSpecInput } from './pod-spec.js';
export { podReadiness, isPodReady, toSummary, type PodReadiness } from './pod-state.js';
