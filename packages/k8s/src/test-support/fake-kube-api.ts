import { KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { http, HttpResponse, type RequestHandler } from 'msw';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
}

export interface WatchStream {
  readonly url: URL;
  send(type: string, object: unknown): void;
  /** Bytes as they are, e.g. an event split across two chunks. */
  raw(text: string): void;
  /** The server ends the watch (as API servers do routinely). */
  end(): void;
  readonly closed: boolean;
}

let hosts = 0;
const encoder = new TextEncoder();

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function matchesSelector(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=');
    return labels?.[key!] === value;
  });
}

/**
 * The part of the Kubernetes core/v1 pods API a PodManager uses, emulated with msw: create/get/list/delete
 * on an in-memory store, and watch streams (chunked JSON lines) the test drives or that follow the store.
 */
export class FakeKubeApi {
  readonly server = `http://kube-${++hosts}.test`;
  readonly pods = new Map<string, V1Pod>();
  readonly calls: Call[] = [];
  readonly watches: WatchStream[] = [];
  /** `"METHOD kind"` (`POST pods`, `GET pod`, `GET pods`, `DELETE pod`, `WATCH pods`) → canned failure. */
  readonly failures = new Map<string, { status: number; reason: string; message?: string; times?: number }>();
  /** Called for each new watch, before it follows the store; a test scripts it here. */
  onWatch: ((stream: WatchStream) => void) | undefined;
  /** When false, watches only carry what onWatch sends (no store updates). */
  followStore = true;
  private resourceVersion = 100;
  private readonly open = new Set<{
    stream: WatchStream;
    namespace: string;
    name: string | undefined;
    enqueue(bytes: Uint8Array): void;
  }>();

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.server, skipTLSVerify: true }],
      users: [{ name: 'tester', token: 'test-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace: 'agents' }],
      currentContext: 'fake',
    });
    return kc;
  }

  pod(name: string, namespace = 'agents'): V1Pod | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }

  /** Changes a stored pod (status, metadata…) and tells the watches that follow it. */
  update(name: string, mutate: (pod: V1Pod) => void, namespace = 'agents'): V1Pod {
    const pod = this.pod(name, namespace);
    if (!pod) throw new Error(`no pod ${name}`);
    mutate(pod);
    pod.metadata!.resourceVersion = String(++this.resourceVersion);
    this.broadcast('MODIFIED', pod, namespace);
    return pod;
  }

  /** Deletes a stored pod, as the cluster (or someone else) would. */
  remove(name: string, namespace = 'agents'): void {
    const pod = this.pod(name, namespace);
    if (!pod) return;
    this.pods.delete(`${namespace}/${name}`);
    pod.metadata!.resourceVersion = String(++this.resourceVersion);
    this.broadcast('DELETED', pod, namespace);
  }

  /** Puts a pod in the store directly (someone else created it). */
  seed(pod: V1Pod, namespace = 'agents'): void {
    pod.metadata = {
      namespace,
      creationTimestamp: new Date(),
      resourceVersion: String(++this.resourceVersion),
      ...pod.metadata,
    };
    this.pods.set(`${namespace}/${pod.metadata.name}`, pod);
  }

  private broadcast(type: string, pod: V1Pod, namespace: string) {
    if (!this.followStore) return;
    for (const w of this.open) {
      if (w.namespace === namespace && (w.name === undefined || w.name === pod.metadata?.name))
        w.stream.send(type, pod);
    }
  }

  private failure(key: string): Response | undefined {
    const f = this.failures.get(key);
    if (!f) return undefined;
    if (f.times !== undefined && --f.times <= 0) this.failures.delete(key);
    return HttpResponse.json(status(f.status, f.reason, f.message ?? f.reason), { status: f.status });
  }

  private record(request: Request): URL {
    const url = new URL(request.url);
    this.calls.push({ method: request.method, path: url.pathname, query: url.searchParams });
    return url;
  }

  private watch(_request: Request, url: URL, namespace: string): Response {
    const failed = this.failure('WATCH pods');
    if (failed) return failed;
    const field = url.searchParams.get('fieldSelector');
    const name = field?.startsWith('metadata.name=') ? field.slice('metadata.name='.length) : undefined;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let closed = false;
    const entry = {
      namespace,
      name,
      enqueue: (bytes: Uint8Array) => {
        if (!closed) controller.enqueue(bytes);
      },
      stream: undefined as unknown as WatchStream,
    };
    const close = () => {
      closed = true;
      this.open.delete(entry);
    };
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        // msw's ClientRequest emulation only answers once the body has a first chunk; a real API server sends
        // the headers at once. A blank line stands in for that (the client skips lines that are not JSON).
        c.enqueue(encoder.encode('\n'));
      },
      cancel: close,
    });
    const stream: WatchStream = {
      url,
      send: (type, object) => entry.enqueue(encoder.encode(`${JSON.stringify({ type, object })}\n`)),
      raw: (text) => entry.enqueue(encoder.encode(text)),
      end: () => {
        if (closed) return;
        close();
        controller.close();
      },
      get closed() {
        return closed;
      },
    };
    entry.stream = stream;
    this.open.add(entry);
    this.watches.push(stream);
    // Scripted events go out once the client holds the response.
    queueMicrotask(() => this.onWatch?.(stream));
    return new HttpResponse(body, { status: 200, headers: { 'content-type': 'application/json' } });
  }

  /** Appends lines to a pod's log (`pods/:name/log`), and to its open follows. */
  log(name: string, ...lines: string[]): void {
    const kept = this.logs.get(name) ?? [];
    kept.push(...lines);
    this.logs.set(name, kept);
    for (const f of this.follows) if (f.name === name) f.enqueue(encoder.encode(lines.map((l) => `${l}\n`).join('')));
  }

  /** Follows still open (a client that went must leave none). */
  get openFollows(): number {
    return this.follows.size;
  }

  private readonly logs = new Map<string, string[]>();
  private readonly follows = new Set<{ name: string; enqueue(bytes: Uint8Array): void }>();

  private podLog(url: URL, name: string): Response {
    const failed = this.failure('GET log');
    if (failed) return failed;
    const all = this.logs.get(name) ?? [];
    const tail = url.searchParams.get('tailLines');
    const since = url.searchParams.get('sinceTime');
    const lines = since ? [] : tail ? all.slice(-Number(tail)) : all;
    const text = lines.map((l) => `${l}\n`).join('');
    if (url.searchParams.get('follow') !== 'true') return new HttpResponse(text, { status: 200 });
    const entry = { name, enqueue: (_: Uint8Array) => {} };
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        entry.enqueue = (bytes) => c.enqueue(bytes);
        // As for watches: msw answers once the body has a first chunk.
        c.enqueue(encoder.encode(text || ''));
        this.follows.add(entry);
      },
      cancel: () => {
        this.follows.delete(entry);
      },
    });
    return new HttpResponse(body, { status: 200, headers: { 'content-type': 'text/plain' } });
  }

  handlers(): RequestHandler[] {
    const base = `${this.server}/api/v1/namespaces/:namespace/pods`;
    return [
      http.get(`${base}/:name/log`, ({ request, params }) => {
        const url = this.record(request);
        if (!this.pod(params.name as string, params.namespace as string))
          return HttpResponse.json(status(404, 'NotFound', `pods "${params.name}" not found`), { status: 404 });
        return this.podLog(url, params.name as string);
      }),
      http.post(base, async ({ request, params }) => {
        this.record(request);
        const failed = this.failure('POST pods');
        if (failed) return failed;
        const namespace = params.namespace as string;
        const pod = (await request.json()) as V1Pod;
        const name = pod.metadata!.name!;
        if (this.pods.has(`${namespace}/${name}`)) {
          return HttpResponse.json(status(409, 'AlreadyExists', `pods "${name}" already exists`), { status: 409 });
        }
        pod.metadata = {
          ...pod.metadata,
          namespace,
          uid: `uid-${name}`,
          creationTimestamp: new Date(),
          resourceVersion: String(++this.resourceVersion),
        };
        pod.status = { phase: 'Pending' };
        this.pods.set(`${namespace}/${name}`, pod);
        this.broadcast('ADDED', pod, namespace);
        return HttpResponse.json(pod, { status: 201 });
      }),
      http.get(base, ({ request, params }) => {
        const url = this.record(request);
        const namespace = params.namespace as string;
        if (url.searchParams.get('watch') === 'true') return this.watch(request, url, namespace);
        const failed = this.failure('GET pods');
        if (failed) return failed;
        const selector = url.searchParams.get('labelSelector');
        const all = [...this.pods.values()].filter(
          (p) => p.metadata?.namespace === namespace && matchesSelector(p.metadata?.labels, selector),
        );
        const offset = Number(url.searchParams.get('continue') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? all.length) || all.length;
        const items = all.slice(offset, offset + limit);
        const next = offset + limit < all.length ? String(offset + limit) : undefined;
        return HttpResponse.json({
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(this.resourceVersion), ...(next ? { continue: next } : {}) },
          items,
        });
      }),
      http.get(`${base}/:name`, ({ request, params }) => {
        this.record(request);
        const failed = this.failure('GET pod');
        if (failed) return failed;
        const pod = this.pod(params.name as string, params.namespace as string);
        if (!pod) return HttpResponse.json(status(404, 'NotFound', `pods "${params.name}" not found`), { status: 404 });
        return HttpResponse.json(pod);
      }),
      http.delete(`${base}/:name`, ({ request, params }) => {
        this.record(request);
        const failed = this.failure('DELETE pod');
        if (failed) return failed;
        const pod = this.pod(params.name as string, params.namespace as string);
        if (!pod) return HttpResponse.json(status(404, 'NotFound', `pods "${params.name}" not found`), { status: 404 });
        this.remove(params.name as string, params.namespace as string);
        return HttpResponse.json(pod);
      }),
    ];
  }
}

/** Pod status fragments for the states a wait goes through. */
export const podStatus = {
  pending: (): V1Pod['status'] => ({
    phase: 'Pending',
    containerStatuses: [
      {
        name: 'agent',
        image: 'img',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
      },
    ],
  }),
  runningNotReady: (): V1Pod['status'] => ({
    phase: 'Running',
    podIP: '10.0.0.7',
    containerStatuses: [
      {
        name: 'agent',
        image: 'img',
        imageID: '',
        ready: false,
        restartCount: 0,
        started: true,
        state: { running: {} },
      },
    ],
  }),
  ready: (ip = '10.0.0.7'): V1Pod['status'] => ({
    phase: 'Running',
    podIP: ip,
    containerStatuses: [
      { name: 'agent', image: 'img', imageID: '', ready: true, restartCount: 0, started: true, state: { running: {} } },
    ],
  }),
  waiting: (reason: string, message = ''): V1Pod['status'] => ({
    phase: 'Pending',
    containerStatuses: [
      {
        name: 'agent',
        image: 'img',
        imageID: '',
        ready: false,
        restartCount: 3,
        state: { waiting: { reason, message } },
      },
    ],
  }),
  failed: (): V1Pod['status'] => ({ phase: 'Failed', reason: 'Error', message: 'the agent exited' }),
};

/**
 * client-node's Watch, counting the watches still open. msw does not tell a handler that the client went away,
 * so "no watch left running" is checked on the client side: every controller a watch returned must be aborted.
 */
export function trackingWatch(
  kubeConfig: KubeConfig,
): Pick<Watch, 'watch'> & { readonly open: number; readonly started: number } {
  const inner = new Watch(kubeConfig);
  const controllers: AbortController[] = [];
  let pending = 0;
  let started = 0;
  return {
    async watch(...args: Parameters<Watch['watch']>) {
      pending++;
      started++;
      try {
        const controller = await inner.watch(...args);
        controllers.push(controller);
        return controller;
      } finally {
        pending--;
      }
    },
    get open() {
      return pending + controllers.filter((c) => !c.signal.aborted).length;
    },
    get started() {
      return started;
    },
  };
}
