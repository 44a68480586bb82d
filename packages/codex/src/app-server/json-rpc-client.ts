import { JsonLinesParser } from '@forge/core/internal';
import type { RunningProcess } from '@forge/core';
import type { RequestId } from '../gen/RequestId.js';

/** An error answer to a request (`{id, error: {code, message, data}}`). */
export class JsonRpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(`${method}: ${message}`);
    this.name = 'JsonRpcError';
  }
}

/** The app server's stdout ended (it exited) while a request waited for its answer. */
export class ConnectionClosedError extends Error {
  constructor(method: string) {
    super(`${method}: the Codex app server exited before answering`);
    this.name = 'ConnectionClosedError';
  }
}

export interface JsonRpcHandlers {
  /** A notification from the server (`{method, params}`). */
  notification(method: string, params: Record<string, unknown>): void;
  /** A request from the server (`{id, method, params}`); answer it with `respond` / `respondError`. */
  request(id: RequestId, method: string, params: Record<string, unknown>): void;
  /** A stdout line that is not a JSON object, or one over the line cap. */
  stray?(text: string): void;
}

type Message = Record<string, unknown>;

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * JSON-RPC 2.0 as `codex app-server` speaks it: one message per line on stdio, without the `"jsonrpc"`
 * field, requests both ways. Small on purpose: the maintained JSON-RPC libraries want a transport of their own
 * (streams, sockets), while this one must sit on a `ProcessRunner`'s process, which may be a pod.
 */
export class JsonRpcClient {
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Resolves when stdout has ended. */
  readonly done: Promise<void>;

  constructor(
    private readonly proc: RunningProcess,
    private readonly handlers: JsonRpcHandlers,
    maxLineBytes?: number,
  ) {
    const parser = new JsonLinesParser<Message>(
      (item) => {
        if (item.kind === 'object') this.dispatch(item.value);
        else if (item.kind === 'text') this.handlers.stray?.(item.text);
        else this.handlers.stray?.(`a line of ${item.bytes} bytes over the line cap was skipped`);
      },
      maxLineBytes === undefined ? {} : { maxLineBytes },
    );
    this.done = (async () => {
      try {
        for await (const chunk of proc.stdout) parser.push(chunk);
        parser.end();
      } catch {
        // A broken pipe ends the connection like an exit does.
      } finally {
        this.closed = true;
        for (const [id, p] of this.pending) {
          this.pending.delete(id);
          p.reject(new ConnectionClosedError(p.method));
        }
      }
    })();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  request<T>(method: string, params: unknown): Promise<T> {
    if (this.closed) return Promise.reject(new ConnectionClosedError(method));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
      this.send({ id, method, params }).catch((error: unknown) => {
        this.pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  notify(method: string, params?: unknown): Promise<void> {
    return this.send(params === undefined ? { method } : { method, params });
  }

  respond(id: RequestId, result: unknown): Promise<void> {
    return this.send({ id, result });
  }

  respondError(id: RequestId, code: number, message: string): Promise<void> {
    return this.send({ id, error: { code, message } });
  }

  /** Writes are chained so two messages never interleave on the pipe. */
  private send(message: Message): Promise<void> {
    const line = `${JSON.stringify(message)}\n`;
    const next = this.writing.then(() => this.proc.stdin.write(line));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private dispatch(m: Message): void {
    const method = typeof m.method === 'string' ? m.method : undefined;
    const id = m.id as RequestId | undefined;
    const params = (m.params && typeof m.params === 'object' ? m.params : {}) as Record<string, unknown>;
    if (method !== undefined && id !== undefined && id !== null) {
      this.handlers.request(id, method, params);
      return;
    }
    if (method !== undefined) {
      this.handlers.notification(method, params);
      return;
    }
    if (id === undefined || id === null) return;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    const error = m.error as { code?: number; message?: string; data?: unknown } | undefined;
    if (error)
      p.reject(new JsonRpcError(p.method, Number(error.code ?? 0), String(error.message ?? 'error'), error.data));
    else p.resolve(m.result);
  }
}
