import { isKubernetesError } from './errors.js';
import { requireAddress } from './pod-state.js';
import type { PodManager } from './pod-manager.js';
import type { CreatePodOptions, PodId, PodSummary } from './pod-manager-types.js';

export interface PodAgentOptions {
  /** Create the pod when it does not exist. Default true. */
  create?: boolean | CreatePodOptions;
  /** Wait for the pod to be ready before building the agent. Default true. */
  waitForReady?: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Resolves the pod of `id` (creating it and waiting for it unless told otherwise), then builds the agent for
 * its address, e.g. `podAgent(pods, id, (url) => grpcAgent({ baseUrl: url }))`.
 */
export async function podAgent<A>(
  pods: PodManager,
  id: PodId,
  makeAgent: (address: string, pod: PodSummary) => A | Promise<A>,
  options: PodAgentOptions = {},
): Promise<A> {
  const create = options.create ?? true;
  if (create !== false) {
    try {
      await pods.createPod(id, create === true ? undefined : create);
    } catch (error) {
      if (!isKubernetesError(error, 'K8S_ALREADY_EXISTS')) throw error;
    }
  }
  if (options.waitForReady !== false) {
    const pod = await pods.waitForPodReady(id, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    return makeAgent(pod.address!, pod);
  }
  const pod = await pods.getPod(id);
  return makeAgent(requireAddress(pod, 'podAgent'), pod);
}
