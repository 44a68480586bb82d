import { ForgeError, type ErrorCategory } from '@forge/core';

/**
 * Codes of errors that come from Kubernetes or from a pod's lifecycle. `K8S_*` are answers of the API server
 * (or its absence); `POD_*` describe the pod itself. Agent errors never use these codes.
 */
export type KubernetesErrorCode =
  | 'K8S_NOT_FOUND'
  | 'K8S_ALREADY_EXISTS'
  | 'K8S_CONFLICT'
  | 'K8S_FORBIDDEN'
  | 'K8S_UNAUTHORIZED'
  | 'K8S_INVALID'
  | 'K8S_UNAVAILABLE'
  | 'K8S_ERROR'
  | 'POD_FAILED'
  | 'POD_IMAGE_PULL'
  | 'POD_CRASH_LOOP'
  | 'POD_CONFIG_ERROR'
  | 'POD_DELETED'
  | 'POD_NOT_READY'
  | 'POD_NO_ADDRESS';

/** What the manager was doing when Kubernetes answered: `createPod`, `getPod`, `waitForPodReady`… */
export type KubernetesOperation = string;

const CATEGORY: Record<KubernetesErrorCode, ErrorCategory> = {
  K8S_NOT_FOUND: 'not_found',
  K8S_ALREADY_EXISTS: 'conflict',
  K8S_CONFLICT: 'conflict',
  K8S_FORBIDDEN: 'internal',
  K8S_UNAUTHORIZED: 'internal',
  K8S_INVALID: 'validation',
  K8S_UNAVAILABLE: 'transport',
  K8S_ERROR: 'internal',
  POD_FAILED: 'provider',
  POD_IMAGE_PULL: 'provider',
  POD_CRASH_LOOP: 'provider',
  POD_CONFIG_ERROR: 'provider',
  POD_DELETED: 'not_found',
  POD_NOT_READY: 'transport',
  POD_NO_ADDRESS: 'transport',
};

const RETRYABLE = new Set<KubernetesErrorCode>(['K8S_UNAVAILABLE', 'POD_NOT_READY', 'POD_NO_ADDRESS', 'K8S_CONFLICT']);

export interface KubernetesErrorOptions {
  operation: KubernetesOperation;
  podName?: string | undefined;
  /** HTTP status of the API server's answer, when there was one. */
  status?: number | undefined;
  /** Kubernetes' `reason` (e.g. `AlreadyExists`) or a container's waiting reason (e.g. `ImagePullBackOff`). */
  reason?: string | undefined;
  cause?: unknown;
  retryable?: boolean;
}

/** An error from the Kubernetes API or a pod's lifecycle, carrying the operation and the pod's name. */
export class KubernetesError extends ForgeError {
  declare readonly code: KubernetesErrorCode;
  readonly operation: KubernetesOperation;
  readonly podName: string | undefined;
  readonly status: number | undefined;
  readonly reason: string | undefined;

  constructor(code: KubernetesErrorCode, message: string, options: KubernetesErrorOptions) {
    super(code, message, CATEGORY[code], {
      cause: options.cause,
      retryable: options.retryable ?? RETRYABLE.has(code),
      details: {
        source: 'kubernetes',
        operation: options.operation,
        ...(options.podName !== undefined ? { podName: options.podName } : {}),
        ...(options.status !== undefined ? { status: options.status } : {}),
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
      },
    });
    this.operation = options.operation;
    this.podName = options.podName;
    this.status = options.status;
    this.reason = options.reason;
  }
}

export function isKubernetesError(value: unknown, code?: KubernetesErrorCode): value is KubernetesError {
  return value instanceof KubernetesError && (code === undefined || value.code === code);
}

interface StatusBody {
  reason?: string;
  message?: string;
  code?: number;
}

/** client-node 1.x puts the response body on ApiException as a string or as parsed JSON, depending on the call. */
function statusBody(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? (parsed as StatusBody) : { message: body };
    } catch {
      return body ? { message: body } : {};
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusBody) : {};
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown; errno?: unknown }).code ?? (current as { errno?: unknown }).errno;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if ((current as { type?: unknown }).type === 'system') return 'SYSTEM';
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Maps anything a client-node call throws (ApiException, a fetch error, a watch error) to a KubernetesError. */
export function toKubernetesError(error: unknown, operation: KubernetesOperation, podName?: string): KubernetesError {
  if (error instanceof KubernetesError) return error;
  const httpStatus = (error as { code?: unknown; statusCode?: unknown } | null)?.code;
  const status =
    typeof httpStatus === 'number'
      ? httpStatus
      : typeof (error as { statusCode?: unknown } | null)?.statusCode === 'number'
        ? (error as { statusCode: number }).statusCode
        : undefined;
  const where = podName ? ` (pod ${podName})` : '';
  if (status === undefined) {
    const net = networkCode(error);
    const message = error instanceof Error ? error.message : String(error);
    return new KubernetesError(
      net ? 'K8S_UNAVAILABLE' : 'K8S_ERROR',
      `Kubernetes ${operation}${where} failed: ${message}`,
      { operation, podName, cause: error, retryable: net !== undefined },
    );
  }
  const body = statusBody((error as { body?: unknown }).body);
  const detail = body.message ?? (error instanceof Error ? error.message : `HTTP ${status}`);
  const opts = { operation, podName, status, reason: body.reason, cause: error };
  const message = `Kubernetes ${operation}${where}: ${detail}`;
  if (status === 404) return new KubernetesError('K8S_NOT_FOUND', message, opts);
  if (status === 409)
    return new KubernetesError(
      body.reason === 'AlreadyExists' || body.reason === undefined ? 'K8S_ALREADY_EXISTS' : 'K8S_CONFLICT',
      message,
      opts,
    );
  if (status === 403) return new KubernetesError('K8S_FORBIDDEN', message, opts);
  if (status === 401) return new KubernetesError('K8S_UNAUTHORIZED', message, opts);
  if (status === 400 || status === 422) return new KubernetesError('K8S_INVALID', message, opts);
  if (status === 429 || status >= 500) return new KubernetesError('K8S_UNAVAILABLE', message, opts);
  return new KubernetesError('K8S_ERROR', message, opts);
}
