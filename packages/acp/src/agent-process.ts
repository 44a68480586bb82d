import {
  type AnyMessage,
  type ClientCapabilities,
  type ClientConnection,
  type InitializeResponse,
  type RequestPermissionResponse,
  client,
  methods,
  ndJsonStream,
  PROTOCOL_VERSION,
  RequestError,
} from '@agentclientprotocol/sdk';
import {
  ForgeError,
  type Logger,
  ProcessSpawnError,
  ProviderError,
  type ProcessRunner,
  type RunningProcess,
  TransportError,
} from '@forge/core';
import { exitWithin, readLines, settledWithin, stopProcess } from '@forge/core/internal';
import { ACP_ERROR_CODES, fromRpcError } from './errors.js';
import type { AcpFileSystem } from './file-system.js';
import { parseSessionNotification, type SessionNotificationParams, type ToolCallLike } from './mapper.js';
import { readableFrom, TextTail, writableTo } from './process-streams.js';

/** A `session/request_permission` request's params, as the agent sent them. */
export interface PermissionRequestParams {
  sessionId: string;
  toolCall: ToolCallLike;
  options: Array<{ optionId: string; name?: string; kind: string }>;
}

/** Where one session's traffic goes while a run uses it. */
export interface SessionSink {
  update(notification: SessionNotificationParams, raw: AnyMessage): void;
  permission(params: PermissionRequestParams, signal: AbortSignal): Promise<RequestPermissionResponse>;
}

export interface AgentProcessOptions {
  runner: ProcessRunner;
  command: string;
  args: readonly string[];
  env: Record<string, string> | undefined;
  inheritEnv: boolean | undefined;
  passEnv: readonly string[] | undefined;
  cwd: string | undefined;
  clientCapabilities: ClientCapabilities;
  clientInfo: { name: string; version: string };
  fileSystem: AcpFileSystem | undefined;
  initializeTimeoutMs: number;
  /** How long the agent may take to exit after its stdin closes, before SIGTERM (then SIGKILL). */
  closeGraceMs: number;
  stderrTailChars: number;
  logger: Logger;
  /** Each stderr line, for the runs in flight. */
  onStderr(line: string): void;
  /** An authentication method to call after `initialize` (most agents take keys from their env). */
  authMethodId: string | undefined;
}

/**
 * One running ACP agent: the process, the SDK's client connection over its stdin/stdout, what
 * `initialize` returned, and the sessions it has opened. `session/update` notifications are taken
 * off the stream before the SDK sees them (see `tapUpdates`); everything else is the SDK's.
 */
export class AgentProcess {
  readonly sessions = new Set<string>();
  readonly busy = new Set<string>();
  private readonly sinks = new Map<string, SessionSink>();
  private readonly stderr: TextTail;
  private exitError: ForgeError | undefined;
  private closing = false;
  /** Resolves with the error that describes the process's end, once it has ended. */
  readonly ended: Promise<ForgeError>;

  private constructor(
    readonly proc: RunningProcess,
    readonly connection: ClientConnection,
    private readonly options: AgentProcessOptions,
    stderr: TextTail,
    ended: Promise<ForgeError>,
  ) {
    this.stderr = stderr;
    this.ended = ended.then((e) => (this.exitError = e));
  }

  initialize!: InitializeResponse;

  get alive(): boolean {
    return !this.exitError && !this.connection.signal.aborted;
  }

  static async start(options: AgentProcessOptions): Promise<AgentProcess> {
    const proc = await options.runner.spawn(options.command, [...options.args], {
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.inheritEnv !== undefined ? { inheritEnv: options.inheritEnv } : {}),
      ...(options.passEnv ? { passEnv: options.passEnv } : {}),
    });
    const tail = new TextTail(options.stderrTailChars);
    let self: AgentProcess | undefined;
    // The pipe closes with the process: a read error ends the reading, nothing more.
    const stderrDone = readLines(proc.stderr, options.onStderr, (chunk) => tail.push(chunk)).catch(() => undefined);
    const ended = proc.exited.then(async (exit) => {
      await settledWithin(stderrDone, 500);
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
      const text = tail.toString();
      return new TransportError(
        ACP_ERROR_CODES.processExited,
        `The ACP agent (${options.command}) ${how}${text ? `: ${text}` : ''}`,
        { retryable: true, details: { exitCode: exit.code, signal: exit.signal, stderrTail: text } },
      ) as ForgeError;
    });

    const app = client({ name: options.clientInfo.name }).onRequest(
      methods.client.session.requestPermission,
      (params: unknown) => parsePermissionRequest(params),
      ({ params, signal }) => {
        const sink = self?.sinks.get(params.sessionId);
        // Nobody is running this session (a late request after the run ended): the protocol's answer
        // for a turn that is over is `cancelled`.
        if (!sink) return { outcome: { outcome: 'cancelled' } };
        return sink.permission(params, signal);
      },
    );
    // What the SDK gets and no handler takes (a notification kind this client does not know, an
    // update too malformed for tapUpdates): logged, not lost.
    app.onNotification('*', ({ method, params }) => {
      options.logger.debug('acp: notification no handler takes', { method, params });
    });
    const fs = options.fileSystem;
    if (fs && options.clientCapabilities.fs?.readTextFile) {
      app.onRequest(methods.client.fs.readTextFile, async ({ params }) => fs.readTextFile(params));
    }
    if (fs && options.clientCapabilities.fs?.writeTextFile) {
      app.onRequest(methods.client.fs.writeTextFile, async ({ params }) => {
        await fs.writeTextFile(params);
        return {};
      });
    }

    const stdout = readableFrom(proc.stdout).pipeThrough(tapUpdates((params, raw) => self?.route(params, raw)));
    const connection = app.connect(ndJsonStream(writableTo(proc), stdout));
    self = new AgentProcess(proc, connection, options, tail, ended);
    const instance = self;
    // The process's end closes the connection with an error that says so: pending requests (a
    // prompt in flight) reject with it instead of a bare "connection closed".
    void instance.ended.then((error) => connection.close(error));
    try {
      instance.initialize = await withTimeout(
        connection.agent.request(methods.agent.initialize, {
          protocolVersion: PROTOCOL_VERSION,
          clientCapabilities: options.clientCapabilities,
          clientInfo: options.clientInfo,
        }),
        options.initializeTimeoutMs,
        () =>
          new ProviderError(
            ACP_ERROR_CODES.initializeFailed,
            `The ACP agent (${options.command}) did not answer initialize within ${options.initializeTimeoutMs} ms`,
            { retryable: true },
          ),
      );
      if (instance.initialize.protocolVersion !== PROTOCOL_VERSION) {
        throw new ProviderError(
          ACP_ERROR_CODES.initializeFailed,
          `The ACP agent speaks protocol version ${instance.initialize.protocolVersion}; Forge speaks ${PROTOCOL_VERSION}`,
          { details: { protocolVersion: instance.initialize.protocolVersion } },
        );
      }
      if (options.authMethodId) {
        await connection.agent.request(methods.agent.authenticate, { methodId: options.authMethodId });
      }
    } catch (error) {
      const failure = await instance.failure(error, 'initialize');
      await instance.close();
      if (failure.code === ACP_ERROR_CODES.processExited) {
        throw new ProcessSpawnError(options.command, failure.message, { cause: failure });
      }
      throw failure.code === ACP_ERROR_CODES.initializeFailed
        ? failure
        : new ProviderError(ACP_ERROR_CODES.initializeFailed, failure.message, { cause: failure });
    }
    return instance;
  }

  /** The ForgeError for a failed request: the process's end when that is why, else the agent's error. */
  async failure(error: unknown, method: string): Promise<ForgeError> {
    if (this.exitError) return this.exitError;
    if (this.connection.signal.aborted && !this.closing) {
      // The connection closed because the process is ending; wait briefly for its exit status and stderr.
      await settledWithin(this.ended, 2_000);
      if (this.exitError) return this.exitError;
    }
    return fromRpcError(error, method);
  }

  attach(sessionId: string, sink: SessionSink): void {
    this.sinks.set(sessionId, sink);
  }

  detach(sessionId: string, sink: SessionSink): void {
    if (this.sinks.get(sessionId) === sink) this.sinks.delete(sessionId);
  }

  get stderrTail(): string {
    return this.stderr.toString();
  }

  private route(params: SessionNotificationParams, raw: AnyMessage): void {
    const sink = this.sinks.get(params.sessionId);
    if (sink) sink.update(params, raw);
    else
      this.options.logger.debug('acp: session/update for a session no run is using', { sessionId: params.sessionId });
  }

  /**
   * Ends the agent: closes its stdin (ACP agents exit at end of input), then SIGTERM after
   * `closeGraceMs`, then SIGKILL (the local runner kills the whole process group then).
   */
  async close(): Promise<void> {
    this.closing = true;
    this.connection.close(
      new TransportError(ACP_ERROR_CODES.agentClosed, 'the ACP agent is closing', { retryable: false }),
    );
    await this.proc.stdin.end().catch(() => undefined);
    const grace = this.options.closeGraceMs;
    if (await exitWithin(this.proc, grace)) return;
    await stopProcess(this.proc, { sigintGraceMs: grace, sigtermGraceMs: grace }, 'SIGTERM');
  }
}

/**
 * Takes `session/update` notifications off the agent's stdout before the SDK's `ndJsonStream`
 * sees them, and hands each, parsed but untouched, to `onUpdate` in wire order; every other line
 * (requests, responses, other notifications) goes on to the SDK as bytes. Why not the SDK's
 * `onNotification`: its client app first parses every update against its zod union, which drops
 * fields and rejects update kinds newer than the SDK (they would be lost with a console error); its
 * notification handlers run after an `await`, so a `session/prompt` response could be seen before
 * the last updates of its turn; and updates are nearly all the traffic, where the SDK's per-message
 * stream plumbing costs more than parsing them (see bench/README.md). Here each update is mapped
 * before the next line is read.
 */
export function tapUpdates(
  onUpdate: (params: SessionNotificationParams, raw: AnyMessage) => void,
): TransformStream<Uint8Array, Uint8Array> {
  /** The bytes of the line not yet ended by a newline, from earlier chunks (copied: a chunk is not ours to keep). */
  let carry: Buffer[] = [];
  // Lines are cut on bytes and each decoded on its own (a newline byte is never inside a UTF-8 character), not
  // chunk by chunk: a chunk with one non-ASCII character decodes to a two-byte string, and then every line sliced
  // from it is one, which JSON.parse reads slower. Most lines are ASCII and stay one-byte strings this way.
  const line = (
    bytes: Buffer,
    start: number,
    end: number,
    controller: TransformStreamDefaultController<Uint8Array>,
  ) => {
    if (end > start && bytes[end - 1] === 13 /* \r */) end--;
    if (end <= start) return;
    // Updates are nearly every line, so each line is parsed here; the few others (requests,
    // responses) go on as bytes and are parsed by the SDK.
    const text = bytes.toString('utf8', start, end);
    const json = bytes[start] === 123 /* { */ ? text : text.trim();
    if (json.charCodeAt(0) === 123) {
      try {
        const message = JSON.parse(json) as { method?: unknown; id?: unknown; params?: unknown };
        if (message.method === 'session/update' && message.id === undefined) {
          onUpdate(parseSessionNotification(message.params), message as AnyMessage);
          return;
        }
      } catch {
        // Not JSON, or not a well-formed update: the SDK answers it as it answers any bad message.
      }
    } else if (!json) return;
    const out = new Uint8Array(end - start + 1);
    out.set(bytes.subarray(start, end));
    out[end - start] = 10;
    controller.enqueue(out);
  };
  const joinCarry = (last?: Buffer): Buffer => {
    if (last) carry.push(last);
    const joined = carry.length === 1 ? carry[0]! : Buffer.concat(carry);
    carry = [];
    return joined;
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      let nl = bytes.indexOf(10);
      if (nl === -1) {
        if (bytes.length > 0) carry.push(Buffer.from(bytes));
        return;
      }
      if (carry.length > 0) {
        const first = joinCarry(bytes.subarray(0, nl));
        line(first, 0, first.length, controller);
      } else line(bytes, 0, nl, controller);
      let start = nl + 1;
      while ((nl = bytes.indexOf(10, start)) !== -1) {
        line(bytes, start, nl, controller);
        start = nl + 1;
      }
      if (start < bytes.length) carry.push(Buffer.from(bytes.subarray(start)));
    },
    flush(controller) {
      if (carry.length === 0) return;
      const rest = joinCarry();
      line(rest, 0, rest.length, controller);
    },
  });
}

function parsePermissionRequest(params: unknown): PermissionRequestParams {
  const p = params as Partial<PermissionRequestParams> | null;
  if (
    !p ||
    typeof p.sessionId !== 'string' ||
    !p.toolCall ||
    typeof p.toolCall.toolCallId !== 'string' ||
    !Array.isArray(p.options)
  ) {
    throw RequestError.invalidParams(undefined, 'session/request_permission needs sessionId, toolCall and options');
  }
  return p as PermissionRequestParams;
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The error as a ForgeError: one already is passes as it is, anything else is read as `method` failing. */
export async function asForgeError(proc: AgentProcess, error: unknown, method: string): Promise<ForgeError> {
  if (error instanceof ForgeError) return error;
  return proc.failure(error, method);
}
