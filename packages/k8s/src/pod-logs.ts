import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import type { Log } from '@kubernetes/client-node';
import { toKubernetesError } from './errors.js';

export interface PodLogsOptions {
  /** The latest lines to start with. Default: the whole log Kubernetes keeps. */
  tail?: number;
  /** Keep reading new lines until `signal` aborts or the container ends. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Default: the template's container. */
  container?: string;
}

export interface PodLogTarget {
  namespace: string;
  podName: string;
  container: string;
}

/** A longer line is cut here: a log is read by people, and one line must not hold the reader's memory. */
const MAX_LINE = 8_192;

/**
 * A pod's log, line by line, through client-node's `Log` (the API server's `pods/log`, `follow` and `tailLines`):
 * the request is aborted when `signal` aborts or the reader stops early.
 */
export async function* podLogLines(
  log: Pick<Log, 'log'>,
  target: PodLogTarget,
  options: PodLogsOptions = {},
): AsyncGenerator<string> {
  const { signal } = options;
  if (signal?.aborted) return;
  const tail = options.tail;
  // tailLines=0 is not sent by client-node (it reads 0 as unset): no old lines at all is "since now".
  if (tail === 0 && !options.follow) return;
  const sink = new PassThrough();
  let controller: AbortController;
  try {
    controller = await log.log(target.namespace, target.podName, target.container, sink, {
      follow: options.follow ?? false,
      timestamps: false,
      ...(tail === 0 ? { sinceTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } : {}),
      ...(tail !== undefined && tail > 0 ? { tailLines: tail } : {}),
    });
  } catch (error) {
    throw toKubernetesError(error, 'podLogs', target.podName);
  }
  const stop = () => {
    controller.abort();
    sink.end();
  };
  signal?.addEventListener('abort', stop, { once: true });
  const lines = createInterface({ input: sink, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (signal?.aborted) return;
      yield line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    lines.close();
    stop();
  }
}
