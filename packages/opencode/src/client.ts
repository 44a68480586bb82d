import { ProviderError } from '@forge/core';
import { httpStatusError, unreachableError } from './http-errors.js';
import { SessionInfoSchema, SessionMessagesSchema, type SessionInfo, type SessionMessage } from './schemas.js';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface OpencodeClientOptions {
  baseUrl: string;
  /** Added to every request, e.g. `{ authorization: 'Basic …' }`. */
  headers?: Record<string, string>;
  fetch?: FetchLike;
  /** Limit for one plain request (not the event stream). Default 30 s. */
  requestTimeoutMs?: number;
}

/** A file or image of the prompt: `url` is a `data:` URL or a `file://` URL on the server's machine. */
export interface FilePart {
  type: 'file';
  mime: string;
  url: string;
  filename?: string;
}

export interface PromptBody {
  parts: Array<{ type: 'text'; text: string } | FilePart>;
  model?: { providerID: string; modelID: string };
  agent?: string;
  system?: string;
  tools?: Record<string, boolean>;
  /** The answer comes as `info.structured` of the assistant message (OpenCode's `StructuredOutput` tool). */
  format?: { type: 'json_schema'; schema: Record<string, unknown> };
  /** One of the model's variants (`GET /config/providers`), e.g. a reasoning effort. */
  variant?: string;
}

export interface PermissionRule {
  permission: string;
  pattern: string;
  action: 'allow' | 'ask' | 'deny';
}

export interface CreateSessionBody {
  title?: string;
  agent?: string;
  permission?: PermissionRule[];
}

export type PermissionReply = 'once' | 'always' | 'reject';

/**
 * The few OpenCode v1 endpoints a run needs. Every failure is a typed ForgeError naming the
 * method, path, status and body; a server that cannot be reached is a retryable TransportError.
 */
export class OpencodeClient {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: FetchLike;
  private readonly requestTimeoutMs: number;

  constructor(options: OpencodeClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = options.headers ?? {};
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  url(path: string, directory?: string): string {
    const query = directory ? `${path.includes('?') ? '&' : '?'}directory=${encodeURIComponent(directory)}` : '';
    return `${this.baseUrl}${path}${query}`;
  }

  /**
   * Opens `GET /event`; the caller reads and closes the body. The response headers must come
   * within the request timeout (a half-started server has been seen to hold a request for
   * minutes); the body itself may then stay open as long as `signal` allows.
   */
  async openEvents(directory: string | undefined, signal: AbortSignal): Promise<Response> {
    const path = '/event';
    const local = new AbortController();
    const follow = () => local.abort(signal.reason);
    if (signal.aborted) follow();
    else signal.addEventListener('abort', follow, { once: true });
    const timer = setTimeout(
      () => local.abort(new DOMException(`no answer within ${this.requestTimeoutMs} ms`, 'TimeoutError')),
      this.requestTimeoutMs,
    );
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(path, directory), {
        method: 'GET',
        headers: { accept: 'text/event-stream', ...this.headers },
        signal: local.signal,
      });
    } catch (error) {
      signal.removeEventListener('abort', follow);
      throw unreachableError('GET', path, local.signal.aborted && !signal.aborted ? local.signal.reason : error);
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok || !res.body) {
      const body = await res.text().catch(() => '');
      throw httpStatusError('GET', path, res.status, body || (res.body ? '' : 'no body'));
    }
    return res;
  }

  async request(
    method: string,
    path: string,
    options: { body?: unknown; directory?: string; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.requestTimeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.url(path, options.directory), {
        method,
        headers: {
          accept: 'application/json',
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...this.headers,
        },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal,
      });
      text = await res.text();
    } catch (error) {
      throw unreachableError(method, path, error);
    }
    if (!res.ok) throw httpStatusError(method, path, res.status, text);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ProviderError(
        'OPENCODE_BAD_RESPONSE',
        `OpenCode ${method} ${path} answered ${res.status} with a body that is not JSON`,
        {
          cause: error,
          details: { method, path, status: res.status, body: text.slice(0, 500) },
        },
      );
    }
  }

  async health(signal?: AbortSignal): Promise<{ healthy: boolean; version?: string }> {
    const body = (await this.request('GET', '/global/health', { ...(signal ? { signal } : {}), timeoutMs: 2_000 })) as {
      healthy?: boolean;
      version?: string;
    };
    return { healthy: body?.healthy === true, ...(typeof body?.version === 'string' ? { version: body.version } : {}) };
  }

  async createSession(body: CreateSessionBody, directory?: string, signal?: AbortSignal): Promise<SessionInfo> {
    const raw = await this.request('POST', '/session', { body, ...opt(directory, signal) });
    return parseOrThrow(SessionInfoSchema, raw, 'POST', '/session');
  }

  /** `POST /session/:id/fork`: a new session holding a copy of the whole conversation. */
  async forkSession(id: string, directory?: string, signal?: AbortSignal): Promise<SessionInfo> {
    const path = `/session/${encodeURIComponent(id)}/fork`;
    const raw = await this.request('POST', path, { body: {}, ...opt(directory, signal) });
    return parseOrThrow(SessionInfoSchema, raw, 'POST', path);
  }

  async getSession(id: string, directory?: string, signal?: AbortSignal): Promise<SessionInfo> {
    const path = `/session/${encodeURIComponent(id)}`;
    return parseOrThrow(SessionInfoSchema, await this.request('GET', path, opt(directory, signal)), 'GET', path);
  }

  async messages(id: string, directory?: string, signal?: AbortSignal): Promise<SessionMessage[]> {
    const path = `/session/${encodeURIComponent(id)}/message`;
    return parseOrThrow(SessionMessagesSchema, await this.request('GET', path, opt(directory, signal)), 'GET', path);
  }

  /** Idle sessions are absent from the map. */
  async statuses(directory?: string, signal?: AbortSignal): Promise<Record<string, { type: string }>> {
    const raw = await this.request('GET', '/session/status', opt(directory, signal));
    return raw && typeof raw === 'object' ? (raw as Record<string, { type: string }>) : {};
  }

  async promptAsync(id: string, body: PromptBody, directory?: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/session/${encodeURIComponent(id)}/prompt_async`, { body, ...opt(directory, signal) });
  }

  async abort(id: string, directory?: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/session/${encodeURIComponent(id)}/abort`, {
      ...opt(directory, signal),
      timeoutMs: 5_000,
    });
  }

  async replyPermission(
    requestId: string,
    reply: PermissionReply,
    message: string | undefined,
    directory?: string,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.request('POST', `/permission/${encodeURIComponent(requestId)}/reply`, {
      body: { reply, ...(message !== undefined ? { message } : {}) },
      ...opt(directory, signal),
    });
  }

  /** `POST /question/:id/reply`: one array of chosen labels (or typed text) per question, in order. */
  async replyQuestion(requestId: string, answers: string[][], directory?: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/question/${encodeURIComponent(requestId)}/reply`, {
      body: { answers },
      ...opt(directory, signal),
    });
  }

  /** `POST /question/:id/reject`: the question tool fails with "The user dismissed this question". */
  async rejectQuestion(requestId: string, directory?: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/question/${encodeURIComponent(requestId)}/reject`, {
      ...opt(directory, signal),
      timeoutMs: 5_000,
    });
  }
}

function opt(
  directory: string | undefined,
  signal: AbortSignal | undefined,
): { directory?: string; signal?: AbortSignal } {
  return { ...(directory ? { directory } : {}), ...(signal ? { signal } : {}) };
}

function parseOrThrow<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } },
  raw: unknown,
  method: string,
  path: string,
): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ProviderError(
    'OPENCODE_BAD_RESPONSE',
    `OpenCode ${method} ${path} answered with an unexpected shape: ${parsed.error.message.slice(0, 300)}`,
    {
      details: { method, path },
    },
  );
}
