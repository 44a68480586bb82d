import type { PodId, PodManager, PodSummary } from '@forge/k8s';
import type { PodManagerLike } from './k8s-backend.js';

export interface FakePodsOptions {
  /** Called when a pod is created; returns the address it serves on (default `http://10.0.0.N:8080`). */
  start?: (id: PodId) => Promise<string | undefined> | string | undefined;
  /** Called when a pod is deleted. */
  stop?: (id: PodId) => Promise<void> | void;
  /** waitForPodReady fails with this instead. */
  failReady?: Error;
}

/**
 * An in-memory stand-in for `@forge/k8s`'s pod manager, for tests without a cluster: pods are
 * Pending when created and Ready once waited for, and summaries look like the real ones.
 */
export function fakePods(options: FakePodsOptions = {}) {
  const pods = new Map<string, PodSummary>();
  const calls: string[] = [];
  const logs = new Map<string, { lines: string[]; wake: Set<() => void> }>();
  const logOf = (k: string) => {
    let log = logs.get(k);
    if (!log) logs.set(k, (log = { lines: [], wake: new Set() }));
    return log;
  };
  /** Lines the pod's container writes (what `kubectl logs` shows). */
  const log = (id: PodId, ...lines: string[]) => {
    const l = logOf(key(id));
    l.lines.push(...lines);
    for (const wake of l.wake) wake();
  };
  let n = 10;
  const key = (id: PodId) => `${id.userId}/${id.agentId}`;
  const must = (id: PodId) => {
    const pod = pods.get(key(id));
    if (!pod) throw Object.assign(new Error(`no pod for ${key(id)}`), { code: 'K8S_NOT_FOUND' });
    return pod;
  };
  const manager: PodManagerLike & Pick<PodManager, 'listAllPods' | 'reapOrphans'> = {
    async createPod(id, opts) {
      calls.push(`create ${key(id)} ${String(opts?.env?.FORGE_PROVIDER)}${opts?.image ? ` ${opts.image}` : ''}`);
      const ip = `10.0.0.${n++}`;
      const address = (await options.start?.(id)) ?? `http://${ip}:8080`;
      const pod: PodSummary = {
        name: `forge-${id.agentId}`,
        namespace: 'forge',
        userId: id.userId,
        agentId: id.agentId,
        phase: 'Pending',
        ready: false,
        podIP: undefined,
        address: undefined,
        createdAt: new Date(1_700_000_000_000 + n),
        deletingSince: undefined,
        labels: { 'forge.dev/user': id.userId, 'forge.dev/agent': id.agentId },
        annotations: { ...(opts?.annotations ?? {}) },
        reason: undefined,
      };
      // Remembered for when the pod becomes ready.
      (pod as PodSummary & { next?: { ip: string; address: string } }).next = {
        ip: new URL(address).hostname,
        address,
      };
      pods.set(key(id), pod);
      return pod;
    },
    async waitForPodReady(id) {
      if (options.failReady) throw options.failReady;
      const pod = must(id) as PodSummary & { next?: { ip: string; address: string } };
      Object.assign(pod, { phase: 'Running', ready: true, podIP: pod.next!.ip, address: pod.next!.address });
      return pod;
    },
    findPod: async (id) => pods.get(key(id)),
    async getPodAddress(id) {
      const pod = must(id);
      if (!pod.address) throw Object.assign(new Error('no address yet'), { code: 'POD_NO_ADDRESS' });
      return pod.address;
    },
    listPods: async (userId) => [...pods.values()].filter((p) => p.userId === userId),
    listAllPods: async () => [...pods.values()],
    // As @forge/k8s's: dead pods go, others when the host's check says so (no age rule here).
    async reapOrphans(opts = {}) {
      const reaped: PodSummary[] = [];
      for (const pod of [...pods.values()]) {
        if (pod.deletingSince) continue;
        const dead = pod.phase === 'Failed' || pod.phase === 'Succeeded';
        const check = opts.isAlive;
        const alive = check
          ? await Promise.resolve(pod)
              .then(check)
              .catch(() => true)
          : true;
        const orphan = dead || alive === false;
        if (!orphan) continue;
        await manager.deletePod({ userId: pod.userId, agentId: pod.agentId }, { graceful: false });
        reaped.push(pod);
      }
      return reaped;
    },
    async *podLogs(id, opts = {}) {
      must(id);
      const l = logOf(key(id));
      let at = Math.max(0, l.lines.length - (opts.tail ?? l.lines.length));
      for (;;) {
        while (at < l.lines.length) {
          if (opts.signal?.aborted) return;
          yield l.lines[at++]!;
        }
        if (!opts.follow || opts.signal?.aborted || !pods.has(key(id))) return;
        await new Promise<void>((resolve) => {
          const wake = () => {
            l.wake.delete(wake);
            opts.signal?.removeEventListener('abort', wake);
            resolve();
          };
          l.wake.add(wake);
          opts.signal?.addEventListener('abort', wake);
        });
      }
    },
    async deletePod(id, opts) {
      calls.push(`delete ${key(id)} graceful=${String(opts?.graceful)}`);
      const pod = pods.get(key(id));
      pods.delete(key(id));
      // Its followers end, as a deleted pod's log stream does.
      for (const wake of logs.get(key(id))?.wake ?? []) wake();
      logs.delete(key(id));
      if (pod) await options.stop?.(id);
      return { name: `forge-${id.agentId}`, deleted: pod !== undefined };
    },
  };
  return { manager, calls, pods, log };
}
