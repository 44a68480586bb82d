import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { KubernetesError, type KubernetesErrorCode } from './errors.js';
import type { PodKeys } from './pod-keys.js';
import type { PodSummary } from './pod-manager-types.js';

export type PodReadiness =
  | { state: 'ready' }
  | { state: 'pending'; reason?: string | undefined }
  | { state: 'failed'; code: KubernetesErrorCode; reason: string; message: string };

const IMAGE_PULL = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
]);
const CONFIG = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

function statuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

function waitingReason(pod: V1Pod): { reason: string; message: string; container: string } | undefined {
  for (const s of statuses(pod)) {
    const waiting = s.state?.waiting;
    if (waiting?.reason) return { reason: waiting.reason, message: waiting.message ?? '', container: s.name };
  }
  return undefined;
}

export function isPodReady(pod: V1Pod): boolean {
  const containers = pod.status?.containerStatuses ?? [];
  const expected = pod.spec?.containers.length ?? containers.length;
  return (
    pod.status?.phase === 'Running' &&
    Boolean(pod.status.podIP) &&
    containers.length >= expected &&
    containers.length > 0 &&
    containers.every((c) => c.ready)
  );
}

/** Decides whether waiting longer can help: ready, still coming, or failed for good. */
export function podReadiness(pod: V1Pod): PodReadiness {
  const name = pod.metadata?.name ?? '?';
  if (pod.metadata?.deletionTimestamp) {
    return { state: 'failed', code: 'POD_DELETED', reason: 'Deleting', message: `Pod ${name} is being deleted` };
  }
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    const reason = pod.status?.reason ?? phase;
    const detail = pod.status?.message ? `: ${pod.status.message}` : '';
    return {
      state: 'failed',
      code: 'POD_FAILED',
      reason,
      message: `Pod ${name} ended (phase ${phase}, ${reason})${detail}`,
    };
  }
  const waiting = waitingReason(pod);
  if (waiting) {
    const text = `Pod ${name} container ${waiting.container}: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`;
    if (IMAGE_PULL.has(waiting.reason))
      return { state: 'failed', code: 'POD_IMAGE_PULL', reason: waiting.reason, message: text };
    if (waiting.reason === 'CrashLoopBackOff')
      return { state: 'failed', code: 'POD_CRASH_LOOP', reason: waiting.reason, message: text };
    if (CONFIG.has(waiting.reason))
      return { state: 'failed', code: 'POD_CONFIG_ERROR', reason: waiting.reason, message: text };
  }
  if (isPodReady(pod)) return { state: 'ready' };
  // Not a failure (capacity may free up), but the reason a timeout should name.
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled)
    return {
      state: 'pending',
      reason: `${unscheduled.reason ?? 'Unschedulable'}${unscheduled.message ? `: ${unscheduled.message}` : ''}`,
    };
  return { state: 'pending', reason: waiting?.reason ?? phase };
}

function firstReason(pod: V1Pod): string | undefined {
  for (const s of statuses(pod)) {
    const reason = s.state?.waiting?.reason ?? s.state?.terminated?.reason;
    if (reason) return reason;
  }
  return pod.status?.reason;
}

function toDate(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function addressOf(podIP: string | undefined, port: number): string | undefined {
  if (!podIP) return undefined;
  return podIP.includes(':') ? `http://[${podIP}]:${port}` : `http://${podIP}:${port}`;
}

/** The pod's agent address; POD_NO_ADDRESS while it has no IP. */
export function requireAddress(pod: PodSummary, operation: string): string {
  if (pod.address) return pod.address;
  throw new KubernetesError('POD_NO_ADDRESS', `Pod ${pod.name} has no IP yet (phase ${pod.phase})`, {
    operation,
    podName: pod.name,
    reason: pod.reason ?? pod.phase,
  });
}

export function toSummary(pod: V1Pod, keys: PodKeys, agentPort: number): PodSummary {
  const labels = { ...pod.metadata?.labels };
  const annotations = { ...pod.metadata?.annotations };
  const podIP = pod.status?.podIP || undefined;
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    userId: annotations[keys.userIdAnnotation] ?? labels[keys.user] ?? '',
    agentId: annotations[keys.agentIdAnnotation] ?? labels[keys.agent] ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: isPodReady(pod),
    podIP,
    address: addressOf(podIP, agentPort),
    createdAt: toDate(pod.metadata?.creationTimestamp as Date | string | undefined),
    deletingSince: toDate(pod.metadata?.deletionTimestamp as Date | string | undefined),
    labels,
    annotations,
    reason: firstReason(pod),
  };
}
