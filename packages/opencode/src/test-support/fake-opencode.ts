import { http, HttpResponse, type RequestHandler } from 'msw';
import type { SessionMessage } from '../schemas.js';

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

export interface PromptContext {
  sessionId: string;
  body: any;
  server: FakeOpencode;
  index: number;
}

export interface FakeOpencodeOptions {
  /** Runs when `prompt_async` arrives (after it answered 204). */
  onPrompt?(ctx: PromptContext): void | Promise<void>;
  /** Ids handed out by `POST /session`, in order; then `ses_fake_<n>`. */
  sessionIds?: string[];
  /** The `directory` of sessions it creates. Default `/project`. */
  directory?: string;
}

let hosts = 0;

/** `fake-model` takes images and has effort variants; `fake-plain` has neither (as OpenCode's `/config/providers`). */
export const FAKE_MODELS = {
  'fake-model': {
    capabilities: { input: { text: true, image: true } },
    variants: {
      low: { reasoningEffort: 'low' },
      medium: { reasoningEffort: 'medium' },
      high: { reasoningEffort: 'high' },
    },
  },
  'fake-plain': { capabilities: { input: { text: true, image: false } }, variants: {} },
};

/**
 * An OpenCode server emulated with msw: the v1 endpoints a run uses, and `GET /event` streams the
 * test writes to (`send`), cuts (`cut`) or refuses (`eventsDown`).
 */
export class FakeOpencode {
  readonly baseUrl = `http://opencode-${++hosts}.test`;
  readonly calls: Call[] = [];
  /** Answer of `GET /session/:id/message` per session. */
  messages = new Map<string, SessionMessage[]>();
  /** Answer of `GET /session/status`. */
  statuses: Record<string, { type: string }> = {};
  /** `GET /event` fails at the network level while true. */
  eventsDown = false;
  /** `"METHOD /path"` → a canned failure. */
  failures = new Map<string, { status: number; body: unknown }>();
  private readonly streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  private readonly waiters: Array<() => void> = [];
  private readonly encoder = new TextEncoder();
  private nextSession = 0;
  private prompts = 0;

  constructor(private readonly options: FakeOpencodeOptions = {}) {}

  get openStreams(): number {
    return this.streams.size;
  }

  /** Writes frames (JSON text or objects) to every open event stream. */
  send(...payloads: Array<string | object>): void {
    const bytes = this.encoder.encode(
      payloads.map((p) => `data: ${typeof p === 'string' ? p : JSON.stringify(p)}\n\n`).join(''),
    );
    for (const c of this.streams) c.enqueue(bytes);
  }

  /** Raw bytes, for frames split across chunks or not SSE at all. */
  sendRaw(text: string): void {
    const bytes = this.encoder.encode(text);
    for (const c of this.streams) c.enqueue(bytes);
  }

  /** Breaks every open stream, as a dropped connection would. */
  cut(): void {
    for (const c of this.streams) c.error(new TypeError('terminated'));
    this.streams.clear();
  }

  /** Resolves once a call matching the predicate has been made. */
  async waitForCall(predicate: (c: Call) => boolean): Promise<Call> {
    for (;;) {
      const found = this.calls.find(predicate);
      if (found) return found;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  async waitForStreams(n: number): Promise<void> {
    while (this.streams.size < n) await new Promise<void>((r) => this.waiters.push(r));
  }

  private record(method: string, path: string, body: unknown): void {
    this.calls.push({ method, path, body });
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private failure(method: string, path: string): Response | undefined {
    const f = this.failures.get(`${method} ${path}`);
    return f ? HttpResponse.json(f.body as any, { status: f.status }) : undefined;
  }

  handlers(): RequestHandler[] {
    const base = this.baseUrl;
    const pathOf = (url: string) => new URL(url).pathname;
    const body = async (request: Request) => {
      const text = await request.text();
      return text ? (JSON.parse(text) as unknown) : undefined;
    };
    return [
      http.get(`${base}/event`, ({ request }) => {
        this.record('GET', '/event', undefined);
        if (this.eventsDown) return HttpResponse.error();
        const failed = this.failure('GET', '/event');
        if (failed) return failed;
        let self: ReadableStreamDefaultController<Uint8Array>;
        const stream = new ReadableStream<Uint8Array>({
          start: (controller) => {
            self = controller;
            this.streams.add(controller);
            controller.enqueue(
              this.encoder.encode(
                `data: ${JSON.stringify({ id: 'evt_0', type: 'server.connected', properties: {} })}\n\n`,
              ),
            );
          },
          cancel: () => {
            this.streams.delete(self);
          },
        });
        request.signal.addEventListener('abort', () => {
          if (this.streams.delete(self)) self.close();
        });
        queueMicrotask(() => this.wake());
        return new HttpResponse(stream, { headers: { 'content-type': 'text/event-stream' } });
      }),
      http.get(`${base}/global/health`, () => HttpResponse.json({ healthy: true, version: '1.18.33' })),
      http.get(`${base}/config`, () => {
        this.record('GET', '/config', undefined);
        return HttpResponse.json({ model: 'fake/fake-model' });
      }),
      http.get(`${base}/config/providers`, () => {
        this.record('GET', '/config/providers', undefined);
        return HttpResponse.json({ providers: [{ id: 'fake', models: FAKE_MODELS }] });
      }),
      http.post(`${base}/session/:id/fork`, async ({ request, params }) => {
        const path = pathOf(request.url);
        this.record('POST', path, await body(request));
        const failed = this.failure('POST', path);
        if (failed) return failed;
        const id = `ses_fake_${this.nextSession++}`;
        return HttpResponse.json({ id, parentID: String(params.id), directory: '/project', version: '1.18.33' });
      }),
      http.post(`${base}/session`, async ({ request }) => {
        this.record('POST', '/session', await body(request));
        const failed = this.failure('POST', '/session');
        if (failed) return failed;
        const id = this.options.sessionIds?.[this.nextSession] ?? `ses_fake_${this.nextSession}`;
        this.nextSession++;
        const directory = this.options.directory ?? '/project';
        return HttpResponse.json({ id, title: 'New session', directory, version: '1.18.33' });
      }),
      http.get(`${base}/session/status`, () => {
        this.record('GET', '/session/status', undefined);
        return HttpResponse.json(this.statuses);
      }),
      http.get(`${base}/session/:id`, ({ request, params }) => {
        const path = pathOf(request.url);
        this.record('GET', path, undefined);
        const failed = this.failure('GET', path);
        if (failed) return failed;
        return HttpResponse.json({ id: String(params.id), directory: this.options.directory ?? '/project' });
      }),
      http.get(`${base}/session/:id/message`, ({ request, params }) => {
        const path = pathOf(request.url);
        this.record('GET', path, undefined);
        const failed = this.failure('GET', path);
        if (failed) return failed;
        const id = String(params.id);
        const list = this.messages.get(id);
        if (!list && !id.startsWith('ses_fake') && !this.options.sessionIds?.includes(id)) {
          return HttpResponse.json(
            { name: 'NotFoundError', data: { message: `Session not found: ${id}` } },
            { status: 404 },
          );
        }
        return HttpResponse.json(list ?? []);
      }),
      http.post(`${base}/session/:id/prompt_async`, async ({ request, params }) => {
        const path = pathOf(request.url);
        const b = await body(request);
        this.record('POST', path, b);
        const failed = this.failure('POST', path);
        if (failed) return failed;
        const index = this.prompts++;
        setTimeout(
          () => void this.options.onPrompt?.({ sessionId: String(params.id), body: b, server: this, index }),
          0,
        );
        return new HttpResponse(null, { status: 204 });
      }),
      http.post(`${base}/session/:id/abort`, ({ request }) => {
        this.record('POST', pathOf(request.url), undefined);
        return HttpResponse.json(true);
      }),
      http.post(`${base}/question/:id/:verb`, async ({ request, params }) => {
        const path = pathOf(request.url);
        this.record('POST', path, await body(request));
        const failed = this.failure('POST', path);
        if (failed) return failed;
        if (params.verb !== 'reply' && params.verb !== 'reject') return new HttpResponse(null, { status: 404 });
        return HttpResponse.json(true);
      }),
      http.post(`${base}/permission/:id/reply`, async ({ request }) => {
        const path = pathOf(request.url);
        this.record('POST', path, await body(request));
        const failed = this.failure('POST', path);
        if (failed) return failed;
        return HttpResponse.json(true);
      }),
    ];
  }
}

/** A `question.asked` frame of `sessionId`, shaped like the real server's (__fixtures__/question.sse). */
export function questionAsked(sessionId: string, id = `que_${sessionId}`): object {
  return {
    type: 'question.asked',
    properties: {
      id,
      sessionID: sessionId,
      questions: [
        {
          question: 'Which colour?',
          header: 'Colour',
          options: [
            { label: 'Blue', description: 'like the sky' },
            { label: 'Red', description: 'like fire' },
          ],
        },
      ],
      tool: { messageID: 'msg_0_a', callID: 'call_q' },
    },
  };
}

/** Frames of a short text turn of `sessionId`, the way OpenCode sends them. */
export function textTurn(sessionId: string, text: string, n = 0): object[] {
  const msg = `msg_${n}_a`;
  const prt = `prt_${n}_t`;
  const info = {
    id: msg,
    sessionID: sessionId,
    role: 'assistant',
    parentID: `msg_${n}_u`,
    cost: 0.001,
    tokens: { input: 10, output: 3, reasoning: 0, cache: { read: 1, write: 0 } },
    time: { created: 1 },
  };
  return [
    { type: 'session.status', properties: { sessionID: sessionId, status: { type: 'busy' } } },
    { type: 'message.updated', properties: { sessionID: sessionId, info } },
    {
      type: 'message.part.updated',
      properties: {
        sessionID: sessionId,
        part: { id: prt, messageID: msg, sessionID: sessionId, type: 'text', text: '', time: { start: 1 } },
      },
    },
    ...text.split(/(?<= )/).map((delta) => ({
      type: 'message.part.delta',
      properties: { sessionID: sessionId, messageID: msg, partID: prt, field: 'text', delta },
    })),
    {
      type: 'message.part.updated',
      properties: {
        sessionID: sessionId,
        part: { id: prt, messageID: msg, sessionID: sessionId, type: 'text', text, time: { start: 1, end: 2 } },
      },
    },
    {
      type: 'message.updated',
      properties: { sessionID: sessionId, info: { ...info, finish: 'stop', time: { created: 1, completed: 2 } } },
    },
    { type: 'session.status', properties: { sessionID: sessionId, status: { type: 'idle' } } },
    { type: 'session.idle', properties: { sessionID: sessionId } },
  ];
}
