import { ValidationError, type ProcessRunner, type WorkspaceAttach } from '@forge/core';
import { CoreV1Api, KubeConfig, Log, Watch, type V1Pod } from '@kubernetes/client-node';
import { KubernetesError, isKubernetesError, toKubernetesError } from './errors.js';
import { podExecRunner, type WebSocketInterface } from './exec-runner.js';
import { podWorkspaceAttach } from './pod-workspace-attach.js';
import { podLogLines, type PodLogsOptions } from './pod-logs.js';
import { MANAGED_BY_LABEL, podKeys, type PodKeys } from './pod-keys.js';
import { isValidLabelPrefix, isValidNamePrefix, podNaming, validatePodId, validateUserId } from './naming.js';
import { buildPod, DEFAULT_AGENT_PORT, DEFAULT_CONTAINER } from './pod-spec.js';
import { requireAddress, toSummary } from './pod-state.js';
import type {
  CreatePodOptions,
  DeletePodOptions,
  DeletePodResult,
  ExecRunnerOptions,
  PodId,
  PodManagerOptions,
  PodSummary,
  ReapOrphansOptions,
  WaitForPodReadyOptions,
} from './pod-manager-types.js';
import { waitForReady } from './wait-ready.js';

const DEFAULT_READY_TIMEOUT_MS = 120_000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

export interface PodManager {
  readonly namespace: string;
  /** The pod name of an identity (deterministic; see README "Identity and naming"). */
  podName(id: PodId): string;
  /** Creates the pod; K8S_ALREADY_EXISTS when it exists already (it is never duplicated). */
  createPod(id: PodId, options?: CreatePodOptions): Promise<PodSummary>;
  /** Creates the pod, or returns the existing one. */
  ensurePod(id: PodId, options?: CreatePodOptions): Promise<PodSummary>;
  /** Resolves once the pod is Running, has an IP and all its containers are ready. */
  waitForPodReady(id: PodId, options?: WaitForPodReadyOptions): Promise<PodSummary>;
  /** K8S_NOT_FOUND when there is no such pod. */
  getPod(id: PodId): Promise<PodSummary>;
  /** The pod, or undefined when there is none. */
  findPod(id: PodId): Promise<PodSummary | undefined>;
  /** `http://<podIP>:<agentPort>`; POD_NO_ADDRESS while the pod has no IP. */
  getPodAddress(id: PodId): Promise<string>;
  /** This user's managed pods, and only theirs. */
  listPods(userId: string): Promise<PodSummary[]>;
  /** Every pod this manager manages in its namespace. */
  listAllPods(): Promise<PodSummary[]>;
  /** 404 is success (`deleted: false`). */
  deletePod(id: PodId, options?: DeletePodOptions): Promise<DeletePodResult>;
  /** A core ProcessRunner that runs commands inside the pod through the exec API. */
  execRunner(id: PodId, options?: ExecRunnerOptions): ProcessRunner;
  /** A person's processes in the pod (a terminal: exec with tty and the resize channel). */
  workspaceAttach(id: PodId, options?: { container?: string; workspace?: string }): WorkspaceAttach;
  /** The pod's log, line by line (client-node's `Log`: `tailLines`, `follow`), until `signal` aborts. */
  podLogs(id: PodId, options?: PodLogsOptions): AsyncIterable<string>;
  /** Deletes managed pods that are idle (TTL / olderThan) or gone (isAlive false, phase Failed/Succeeded). */
  reapOrphans(options?: ReapOrphansOptions): Promise<PodSummary[]>;
}

export interface PodManagerInternals {
  /** Tests inject client-node collaborators; production code leaves these alone. */
  watch?: Pick<Watch, 'watch'>;
  execConnector?: WebSocketInterface;
  log?: Pick<Log, 'log'>;
  sleep?: (ms: number) => Promise<void>;
  /** Items per list page. Default 500. */
  pageSize?: number;
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  // In a pod the service account is the natural identity; elsewhere KUBECONFIG / ~/.kube/config.
  if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

function optionIssue(path: string, message: string): ValidationError {
  return new ValidationError('INVALID_POD_MANAGER_OPTIONS', `Invalid pod manager options: ${path} ${message}`, [
    { path, code: 'invalid', message },
  ]);
}

function validateOptions(options: PodManagerOptions): void {
  if (!options?.template?.image) throw optionIssue('template.image', 'is required');
  const port = options.template.agentPort ?? DEFAULT_AGENT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw optionIssue('template.agentPort', 'must be a port number');
  if (options.labelPrefix !== undefined && !isValidLabelPrefix(options.labelPrefix))
    throw optionIssue('labelPrefix', 'must be a DNS subdomain');
  if (options.namePrefix !== undefined && !isValidNamePrefix(options.namePrefix))
    throw optionIssue('namePrefix', 'must be a DNS label of at most 20 characters');
  if (options.ttlSeconds !== undefined && !(options.ttlSeconds > 0))
    throw optionIssue('ttlSeconds', 'must be positive');
}

export function createPodManager(options: PodManagerOptions, internals: PodManagerInternals = {}): PodManager {
  validateOptions(options);
  const kubeConfig = options.kubeConfig ?? defaultKubeConfig();
  const namespace =
    options.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const watch = internals.watch ?? new Watch(kubeConfig);
  const naming = podNaming(options.namePrefix ?? 'forge');
  const keys: PodKeys = podKeys(options.labelPrefix ?? 'forge.dev');
  const managedBy = options.managedBy ?? 'forge';
  const agentPort = options.template.agentPort ?? DEFAULT_AGENT_PORT;
  const container = options.template.containerName ?? DEFAULT_CONTAINER;
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const now = options.now ?? (() => new Date());

  const summary = (pod: V1Pod) => toSummary(pod, keys, agentPort);
  const managedSelector = `${MANAGED_BY_LABEL}=${managedBy}`;
  let logReader: Log | undefined;

  /** The hash in a name could in theory collide; the exact ids in the annotations settle it. */
  const belongsTo = (pod: PodSummary, id: PodId) => pod.userId === id.userId && pod.agentId === id.agentId;

  /** Where exec and attach sessions go: the identity's pod, the given container (else the template's). */
  function execTarget(rawId: PodId, containerName: string | undefined) {
    return {
      kubeConfig,
      namespace,
      podName: naming.podName(validatePodId(rawId)),
      container: containerName ?? container,
      ...(internals.execConnector ? { connector: internals.execConnector } : {}),
    };
  }

  async function readPod(name: string, operation: string): Promise<V1Pod> {
    try {
      return await api.readNamespacedPod({ name, namespace });
    } catch (error) {
      throw toKubernetesError(error, operation, name);
    }
  }

  async function getPod(rawId: PodId): Promise<PodSummary> {
    const id = validatePodId(rawId);
    const name = naming.podName(id);
    const pod = summary(await readPod(name, 'getPod'));
    if (!belongsTo(pod, id)) {
      throw new KubernetesError('K8S_NOT_FOUND', `Pod ${name} exists but belongs to another identity`, {
        operation: 'getPod',
        podName: name,
        status: 404,
      });
    }
    return pod;
  }

  async function listBySelector(labelSelector: string, operation: string): Promise<PodSummary[]> {
    const pods: PodSummary[] = [];
    let continueToken: string | undefined;
    do {
      let list: Awaited<ReturnType<CoreV1Api['listNamespacedPod']>>;
      try {
        list = await api.listNamespacedPod({
          namespace,
          labelSelector,
          limit: internals.pageSize ?? 500,
          ...(continueToken ? { _continue: continueToken } : {}),
        });
      } catch (error) {
        throw toKubernetesError(error, operation);
      }
      pods.push(...list.items.map(summary));
      continueToken = list.metadata?._continue || undefined;
    } while (continueToken);
    return pods;
  }

  async function deleteByName(
    name: string,
    gracePeriodSeconds: number | undefined,
    operation: string,
  ): Promise<boolean> {
    try {
      await api.deleteNamespacedPod({
        name,
        namespace,
        ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
      });
      return true;
    } catch (error) {
      const k8sError = toKubernetesError(error, operation, name);
      if (k8sError.code === 'K8S_NOT_FOUND') return false;
      throw k8sError;
    }
  }

  const manager: PodManager = {
    namespace,
    podName: (id) => naming.podName(validatePodId(id)),

    async createPod(rawId, createOptions) {
      const id = validatePodId(rawId);
      const body = buildPod({
        id,
        template: options.template,
        naming,
        keys,
        managedBy,
        ttlSeconds: options.ttlSeconds,
        ...(createOptions ? { create: createOptions } : {}),
      });
      try {
        return summary(await api.createNamespacedPod({ namespace, body }));
      } catch (error) {
        throw toKubernetesError(error, 'createPod', body.metadata!.name);
      }
    },

    async ensurePod(id, createOptions) {
      try {
        return await manager.createPod(id, createOptions);
      } catch (error) {
        if (isKubernetesError(error, 'K8S_ALREADY_EXISTS')) return getPod(id);
        throw error;
      }
    },

    async waitForPodReady(rawId, waitOptions = {}) {
      const id = validatePodId(rawId);
      const name = naming.podName(id);
      const pod = await waitForReady(
        {
          podName: name,
          namespace,
          readPod: () => readPod(name, 'waitForPodReady'),
          watch,
          ...(internals.sleep ? { sleep: internals.sleep } : {}),
        },
        { signal: waitOptions.signal, timeoutMs: waitOptions.timeoutMs ?? readyTimeoutMs },
      );
      return summary(pod);
    },

    getPod,

    async findPod(id) {
      try {
        return await getPod(id);
      } catch (error) {
        if (isKubernetesError(error, 'K8S_NOT_FOUND')) return undefined;
        throw error;
      }
    },

    async getPodAddress(id) {
      return requireAddress(await getPod(id), 'getPodAddress');
    },

    async listPods(rawUserId) {
      const userId = validateUserId(rawUserId);
      const pods = await listBySelector(`${managedSelector},${keys.userHash}=${naming.userHash(userId)}`, 'listPods');
      return pods.filter((pod) => pod.userId === userId);
    },

    listAllPods: () => listBySelector(managedSelector, 'listAllPods'),

    async deletePod(rawId, deleteOptions = {}) {
      const id = validatePodId(rawId);
      const name = naming.podName(id);
      if (deleteOptions.graceful !== false && options.shutdownHook) {
        const pod = await manager.findPod(id);
        if (!pod) return { name, deleted: false };
        let timer: NodeJS.Timeout | undefined;
        try {
          // A hung agent must not keep its pod alive: the hook gets a bounded time, then the pod goes anyway.
          await Promise.race([
            Promise.resolve().then(() => options.shutdownHook!(pod)),
            new Promise<void>(
              (resolve) => (timer = setTimeout(resolve, options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS)),
            ),
          ]);
        } catch {
          // The agent may already be dead; deleting the pod is what matters.
        } finally {
          clearTimeout(timer);
        }
      }
      return { name, deleted: await deleteByName(name, deleteOptions.gracePeriodSeconds, 'deletePod') };
    },

    execRunner(rawId, execOptions = {}) {
      return podExecRunner({
        ...execTarget(rawId, execOptions.container),
        ...(execOptions.signals ? { signals: execOptions.signals } : {}),
      });
    },

    workspaceAttach(rawId, attachOptions = {}) {
      return podWorkspaceAttach({
        ...execTarget(rawId, attachOptions.container),
        ...(attachOptions.workspace ? { workspace: attachOptions.workspace } : {}),
      });
    },

    async *podLogs(rawId, logOptions = {}) {
      // Read through getPod first: a name whose hash collides with another identity's is never read.
      const pod = await getPod(rawId);
      yield* podLogLines(
        internals.log ?? (logReader ??= new Log(kubeConfig)),
        { namespace, podName: pod.name, container: logOptions.container ?? container },
        logOptions,
      );
    },

    async reapOrphans(reapOptions = {}) {
      const pods =
        reapOptions.userId !== undefined
          ? await manager.listPods(reapOptions.userId)
          : await listBySelector(managedSelector, 'reapOrphans');
      const reaped: PodSummary[] = [];
      const at = now().getTime();
      for (const pod of pods) {
        if (reapOptions.signal?.aborted) break;
        if (pod.deletingSince) continue;
        const ageMs = pod.createdAt ? at - pod.createdAt.getTime() : undefined;
        const ttl = Number(pod.annotations[keys.ttlAnnotation]);
        const maxAgeMs = reapOptions.olderThan ?? (Number.isFinite(ttl) && ttl > 0 ? ttl * 1000 : undefined);
        // Without an age rule the host's check alone decides; with one, young pods are never touched.
        if (maxAgeMs !== undefined && (ageMs === undefined || ageMs <= maxAgeMs)) continue;
        const terminated = pod.phase === 'Failed' || pod.phase === 'Succeeded';
        let orphan: boolean;
        if (terminated) orphan = true;
        else if (reapOptions.isAlive) {
          try {
            orphan = (await reapOptions.isAlive(pod)) === false;
          } catch {
            orphan = false;
          }
        } else orphan = maxAgeMs !== undefined;
        if (!orphan) continue;
        if (await deleteByName(pod.name, reapOptions.gracePeriodSeconds, 'reapOrphans')) reaped.push(pod);
      }
      return reaped;
    },
  };
  return manager;
}
