import type { V1Pod, Watch } from '@kubernetes/client-node';
import { KubernetesError, isKubernetesError, toKubernetesError } from './errors.js';
import { podReadiness } from './pod-state.js';

const OPERATION = 'waitForPodReady';
/** Consecutive failed watch/read attempts tolerated before giving up with K8S_UNAVAILABLE. */
const MAX_FAILURES = 5;

export interface WaitReadyDeps {
  podName: string;
  namespace: string;
  readPod(): Promise<V1Pod>;
  watch: Pick<Watch, 'watch'>;
  /** Injectable for tests; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

export interface WaitReadyOptions {
  signal?: AbortSignal | undefined;
  timeoutMs: number;
}

type WatchEnd =
  | { kind: 'ended'; events: number }
  | { kind: 'gone' }
  | { kind: 'error'; error: KubernetesError }
  | { kind: 'settled' };

/**
 * Reads the pod once, then watches it from that resourceVersion. A watch that ends (servers close them
 * routinely) or answers 410 Gone (the version was compacted away) leads to a fresh read and a new watch.
 * Whatever happens, no watch is left open once the promise settles.
 */
export function waitForReady(deps: WaitReadyDeps, options: WaitReadyOptions): Promise<V1Pod> {
  const { podName, namespace } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return new Promise<V1Pod>((resolve, reject) => {
    let settled = false;
    let seen = false;
    let lastReason: string | undefined;
    const watches = new Set<AbortController>();
    let endCurrentWatch: ((end: WatchEnd) => void) | undefined;

    const finish = (error: unknown, pod?: V1Pod) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      for (const controller of watches) controller.abort();
      watches.clear();
      endCurrentWatch?.({ kind: 'settled' });
      if (error !== undefined) reject(error);
      else resolve(pod!);
    };
    const onAbort = () => finish(options.signal!.reason ?? new DOMException('The operation was aborted', 'AbortError'));
    const timer = setTimeout(() => {
      finish(
        new KubernetesError(
          'POD_NOT_READY',
          `Pod ${podName} was not ready within ${options.timeoutMs} ms${lastReason ? ` (last state: ${lastReason})` : ''}`,
          { operation: OPERATION, podName, reason: lastReason },
        ),
      );
    }, options.timeoutMs);
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const evaluate = (pod: V1Pod) => {
      const readiness = podReadiness(pod);
      if (readiness.state === 'ready') finish(undefined, pod);
      else if (readiness.state === 'failed') {
        finish(
          new KubernetesError(readiness.code, readiness.message, {
            operation: OPERATION,
            podName,
            reason: readiness.reason,
          }),
        );
      } else lastReason = readiness.reason;
    };

    const deleted = () =>
      new KubernetesError('POD_DELETED', `Pod ${podName} was deleted while waiting for it to become ready`, {
        operation: OPERATION,
        podName,
        reason: 'Deleted',
      });

    const watchOnce = (resourceVersion: string | undefined) =>
      new Promise<WatchEnd>((resolveEnd) => {
        let ended = false;
        let events = 0;
        let controller: AbortController | undefined;
        const end = (result: WatchEnd) => {
          if (ended) return;
          ended = true;
          endCurrentWatch = undefined;
          if (controller) {
            controller.abort();
            watches.delete(controller);
          }
          resolveEnd(result);
        };
        endCurrentWatch = end;
        deps.watch
          .watch(
            `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
            {
              fieldSelector: `metadata.name=${podName}`,
              resourceVersion,
              allowWatchBookmarks: true,
              timeoutSeconds: Math.max(1, Math.ceil(options.timeoutMs / 1000)),
            },
            (type: string, object: unknown) => {
              if (settled || ended) return;
              events++;
              if (type === 'ERROR') {
                const status = object as { code?: number; reason?: string; message?: string };
                if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone')
                  end({ kind: 'gone' });
                else
                  end({
                    kind: 'error',
                    error: toKubernetesError({ code: status.code, body: status }, OPERATION, podName),
                  });
                return;
              }
              if (type === 'BOOKMARK') return;
              if (type === 'DELETED') {
                finish(deleted());
                return;
              }
              evaluate(object as V1Pod);
            },
            (error: unknown) => {
              if (!error) end({ kind: 'ended', events });
              else if ((error as { statusCode?: number }).statusCode === 410) end({ kind: 'gone' });
              else if ((error as { name?: string }).name === 'AbortError' && (settled || ended))
                end({ kind: 'settled' });
              else end({ kind: 'error', error: toKubernetesError(error, OPERATION, podName) });
            },
          )
          .then(
            (c) => {
              // watch() resolves only once the response has arrived, possibly after we finished.
              if (ended || settled) c.abort();
              else {
                controller = c;
                watches.add(c);
              }
            },
            (error: unknown) => end({ kind: 'error', error: toKubernetesError(error, OPERATION, podName) }),
          );
      });

    void (async () => {
      let failures = 0;
      let emptyEnds = 0;
      while (!settled) {
        let pod: V1Pod;
        try {
          pod = await deps.readPod();
        } catch (error) {
          if (settled) return;
          const k8sError = toKubernetesError(error, OPERATION, podName);
          if (k8sError.code === 'K8S_NOT_FOUND') {
            finish(seen ? deleted() : k8sError);
            return;
          }
          if (!k8sError.retryable || ++failures >= MAX_FAILURES) {
            finish(k8sError);
            return;
          }
          await sleep(Math.min(2000, 100 * 2 ** failures));
          continue;
        }
        if (settled) return;
        seen = true;
        evaluate(pod);
        if (settled) return;
        const end = await watchOnce(pod.metadata?.resourceVersion);
        if (settled || end.kind === 'settled') return;
        if (end.kind === 'error') {
          if (!end.error.retryable || isKubernetesError(end.error, 'K8S_FORBIDDEN') || ++failures >= MAX_FAILURES) {
            finish(end.error);
            return;
          }
          await sleep(Math.min(2000, 100 * 2 ** failures));
        } else if (end.kind === 'ended' && end.events === 0) {
          // A watch closed before it said anything (a proxy with a short idle timeout, say): back off a
          // little so that a misbehaving path cannot turn this into a tight read/watch loop.
          emptyEnds++;
          await sleep(Math.min(1000, 25 * 2 ** emptyEnds));
        } else {
          failures = 0;
          emptyEnds = 0;
        }
      }
    })().catch((error: unknown) => finish(toKubernetesError(error, OPERATION, podName)));
  });
}
