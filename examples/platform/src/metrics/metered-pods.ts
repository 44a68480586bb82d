import type { PodId } from '@forge/k8s';
import type { PodManagerLike } from '../backends/k8s-backend.js';
import type { PlatformMetrics } from './platform-metrics.js';

/**
 * The pod manager with pod start-up timed: from `createPod` being asked to `waitForPodReady` answering ready
 * (forge_pod_ready_seconds). Measured here rather than from the pod's creationTimestamp, which has whole seconds.
 */
export function meteredPods<P extends PodManagerLike>(pods: P, metrics: PlatformMetrics, now = Date.now): P {
  const created = new Map<string, number>();
  const key = (id: PodId) => `${id.userId}/${id.agentId}`;
  const overrides: Partial<PodManagerLike> = {
    async createPod(...args: Parameters<PodManagerLike['createPod']>) {
      const started = now();
      const pod = await pods.createPod(...args);
      created.set(key(args[0]), started);
      return pod;
    },
    async waitForPodReady(...args: Parameters<PodManagerLike['waitForPodReady']>) {
      const pod = await pods.waitForPodReady(...args);
      const started = created.get(key(args[0]));
      created.delete(key(args[0]));
      if (started !== undefined) metrics.podReady.observe(Math.max(0, now() - started) / 1000);
      return pod;
    },
    async deletePod(...args: Parameters<PodManagerLike['deletePod']>) {
      created.delete(key(args[0]));
      return pods.deletePod(...args);
    },
  };
  // The rest reaches the manager itself (a class's private fields need their own `this`).
  return new Proxy(pods, {
    get(target, prop) {
      if (prop in overrides) return overrides[prop as keyof PodManagerLike];
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
