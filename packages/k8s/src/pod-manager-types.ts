import type { KubeConfig, V1EnvVar, V1Probe, V1ResourceRequirements, V1Toleration } from '@kubernetes/client-node';

/** One agent of one user; exactly one pod per identity. */
export interface PodId {
  userId: string;
  agentId: string;
}

/** A plain, serialisable view of a managed pod. */
export interface PodSummary {
  name: string;
  namespace: string;
  userId: string;
  agentId: string;
  /** Kubernetes' pod phase: Pending, Running, Succeeded, Failed, Unknown. */
  phase: string;
  /** Running, has an IP, and every container is ready. */
  ready: boolean;
  podIP: string | undefined;
  /** `http://<podIP>:<agentPort>`, or undefined while the pod has no IP. */
  address: string | undefined;
  createdAt: Date | undefined;
  /** Set once Kubernetes has started deleting the pod. */
  deletingSince: Date | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The first waiting/terminated reason of a container (e.g. ImagePullBackOff), when one is not running. */
  reason: string | undefined;
}

/** An environment variable read from a Secret key. */
export interface SecretKeyRef {
  secret: string;
  key: string;
  optional?: boolean;
}

export interface PodTemplate {
  image: string;
  /** Port the agent serves on inside the pod (gRPC / Connect for examples/agent-pod). Default 8080. */
  agentPort?: number;
  /** Container name. Default `agent`. */
  containerName?: string;
  command?: string[];
  args?: string[];
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets?: string[];
  resources?: V1ResourceRequirements;
  /** Plain variables, or `{ secret, key }` to read one key of a Secret. */
  env?: Record<string, string | SecretKeyRef>;
  /** Extra raw EnvVar entries (fieldRef, configMapKeyRef…). */
  extraEnv?: V1EnvVar[];
  /** Secrets whose every key becomes an environment variable (`envFrom.secretRef`). */
  envFromSecrets?: string[];
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  serviceAccountName?: string;
  /** Mount the service account token. Default false: agent pods do not talk to the API server. */
  automountServiceAccountToken?: boolean;
  /** Default 1000 (the `node` user of examples/agent-pod). A numeric user lets Kubernetes verify runAsNonRoot. */
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  /** Default: a TCP probe on the agent port. `null` disables it (the pod is ready once its container runs). */
  readinessProbe?: V1Probe | null;
  /** Default `Always`. */
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  runtimeClassName?: string;
  priorityClassName?: string;
  terminationGracePeriodSeconds?: number;
  /** Extra labels / annotations on every pod (the manager's own keys win). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PodManagerOptions {
  /** Default: in-cluster config when running in a pod, else the default kubeconfig (KUBECONFIG / ~/.kube/config). */
  kubeConfig?: KubeConfig;
  /** Default: the kubeconfig context's namespace, else `default`. */
  namespace?: string;
  template: PodTemplate;
  /** Prefix of the label and annotation keys, a DNS subdomain. Default `forge.dev`. */
  labelPrefix?: string;
  /** Prefix of pod names. Default `forge`. */
  namePrefix?: string;
  /** Value of `app.kubernetes.io/managed-by`; also how listPods and reapOrphans find managed pods. Default `forge`. */
  managedBy?: string;
  /** Default time budget of waitForPodReady. Default 120 000 ms. */
  readyTimeoutMs?: number;
  /**
   * Called by `deletePod(id, { graceful: true })` before the pod is deleted, e.g. to send the agent a gRPC
   * Shutdown. Its failure is ignored: the pod is deleted anyway.
   */
  shutdownHook?: (pod: PodSummary) => Promise<void> | void;
  /** How long deletePod waits for shutdownHook before deleting anyway. Default 30 000 ms. */
  shutdownTimeoutMs?: number;
  /** Idle TTL written to every pod as an annotation; reapOrphans deletes pods older than it. */
  ttlSeconds?: number;
  /** Clock for reapOrphans. */
  now?: () => Date;
}

export interface CreatePodOptions {
  /** This pod's image instead of the template's (an operator's allow-listed image for one agent). */
  image?: string;
  /** This pod's requests/limits instead of the template's. */
  resources?: V1ResourceRequirements;
  /** Extra env for this pod only. */
  env?: Record<string, string | SecretKeyRef>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Overrides the manager's ttlSeconds for this pod. */
  ttlSeconds?: number;
}

export interface WaitForPodReadyOptions {
  signal?: AbortSignal;
  /** Default: the manager's readyTimeoutMs. */
  timeoutMs?: number;
}

export interface DeletePodOptions {
  /** Run the manager's shutdownHook first (its failure is ignored). Default true. */
  graceful?: boolean;
  /** Passed to Kubernetes; 0 kills the pod at once. Default: the pod's terminationGracePeriodSeconds. */
  gracePeriodSeconds?: number;
}

export interface DeletePodResult {
  name: string;
  /** False when the pod was already gone (404 counts as success). */
  deleted: boolean;
}

export interface ReapOrphansOptions {
  /** Pods created longer ago than this are candidates (ms). Without it, each pod's TTL annotation decides. */
  olderThan?: number;
  /** The host's check: true keeps the pod. Errors keep it too (a failed check never deletes). */
  isAlive?: (pod: PodSummary) => Promise<boolean> | boolean;
  /** Only this user's pods. */
  userId?: string;
  gracePeriodSeconds?: number;
  signal?: AbortSignal;
}

export interface ExecRunnerOptions {
  /** Default: the template's container name. */
  container?: string;
  /**
   * How `kill(signal)` reaches the process. `close` (default): close stdin and the connection — exec has no
   * signals, the process only sees EOF/EPIPE. `exec`: the command is started through `sh` recording its PID
   * in a file under /tmp, and kill runs `kill -s <signal>` through a second exec — a real signal (SIGINT
   * lets Claude Code end its run cleanly). Needs `sh`, `cat` and `kill` in the image; falls back to `close`
   * when the second exec fails.
   */
  signals?: 'close' | 'exec';
}
