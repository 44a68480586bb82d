import {
  ForgeError,
  ValidationError,
  createCodeAgent,
  pickPolicyOptions,
  type AgentCapabilities,
  type AgentPolicyOptions,
  type CodeAgent,
  type RunOptions,
  type SessionStore,
} from '@forge/core';
import { OpencodeClient, type FetchLike, type PermissionRule } from './client.js';
import { opencodeDeclaredCapabilities } from './declared-capabilities.js';
import { ownedServerSessionExport } from './session-export.js';
import { startOpencodeServer, type OpencodeServer, type StartOpencodeServerOptions } from './server.js';
import { abortableSleep, runTurn, type ReconnectOptions, type Sleep } from './turn.js';

export interface OpencodeOptions extends RunOptions, AgentPolicyOptions {
  /** A running server, e.g. `http://127.0.0.1:4096`. Either this or `server`. */
  baseUrl?: string;
  /** Own a server: started at first use, stopped by `agent.close()`. */
  server?: StartOpencodeServerOptions;
  /** Sent with every request (e.g. basic auth when OPENCODE_SERVER_PASSWORD is set). */
  headers?: Record<string, string>;
  fetch?: FetchLike;
  /** The project directory (`?directory=`) when the request names no `cwd`. Default: the server's. */
  directory?: string;
  /** `providerID/modelID` when the request names none. Default: the server's configured model. */
  model?: string;
  /** OpenCode agent (`build`, `plan`, …). `permissionMode: 'plan'` in a request picks `plan`. */
  agent?: string;
  /** Permission rules of sessions this adapter creates, e.g. `[{ permission: 'bash', pattern: '*', action: 'ask' }]`. */
  permission?: PermissionRule[];
  /** Silence on the event stream after which it counts as dropped. Default 30 s (heartbeats come every 10 s). */
  stallTimeoutMs?: number;
  reconnect?: ReconnectOptions;
  /** Limit of one plain HTTP request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Waits between reconnect attempts; tests inject a fake. */
  sleep?: Sleep;
  /**
   * Keeps sessions beyond this server (with `server` only: the import runs where the server runs): each turn's
   * session export is saved, and a resume on a server that lacks the session imports it first.
   */
  sessionStore?: SessionStore;
}

export const OPENCODE_PROVIDER = 'opencode';

/** An OpenCode server (HTTP + Server-Sent Events) as a CodeAgent. */
export function opencode(options: OpencodeOptions): CodeAgent {
  // Plain JavaScript callers can pass nothing at all; say what is missing instead of a TypeError on `.baseUrl`.
  if (options === null || typeof options !== 'object') {
    throw new ValidationError(
      'INVALID_OPTIONS',
      'opencode() needs an options object with baseUrl (a running server) or server (one to start)',
      [
        {
          path: '',
          code: 'INVALID_OPTIONS',
          message: `expected an object, got ${options === null ? 'null' : typeof options}`,
        },
      ],
    );
  }
  if (!options.baseUrl === !options.server) {
    throw new ValidationError(
      'INVALID_OPTIONS',
      'opencode() needs exactly one of baseUrl (a running server) or server (one to start)',
      [
        {
          path: options.baseUrl ? 'server' : 'baseUrl',
          code: 'INVALID_OPTIONS',
          message: 'give baseUrl or server, not both or neither',
        },
      ],
    );
  }
  if (options.baseUrl !== undefined && !/^https?:\/\//.test(options.baseUrl)) {
    throw new ValidationError('INVALID_OPTIONS', `baseUrl must be an http(s) URL, got "${options.baseUrl}"`, [
      { path: 'baseUrl', code: 'INVALID_OPTIONS', message: 'not an http(s) URL' },
    ]);
  }
  let server: Promise<OpencodeServer> | undefined;
  let client: Promise<OpencodeClient> | undefined;
  let closing = false;
  const clientOptions = (baseUrl: string) => ({
    baseUrl,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  const getClient = (): Promise<OpencodeClient> => {
    if (closing) return Promise.reject(new ValidationError('AGENT_CLOSED', 'this opencode agent has been closed'));
    if (!client) {
      if (options.baseUrl) client = Promise.resolve(new OpencodeClient(clientOptions(options.baseUrl)));
      else {
        server = startOpencodeServer(options.server);
        client = server.then((s) => new OpencodeClient(clientOptions(s.url)));
        // A failed start may be retried by the next run.
        client.catch(() => {
          client = undefined;
          server = undefined;
        });
      }
    }
    return client;
  };
  const reconnect = {
    initialDelayMs: options.reconnect?.initialDelayMs ?? 250,
    maxDelayMs: options.reconnect?.maxDelayMs ?? 5_000,
    giveUpAfterMs: options.reconnect?.giveUpAfterMs ?? 60_000,
  };

  return createCodeAgent({
    provider: OPENCODE_PROVIDER,
    declared: opencodeDeclaredCapabilities({ ownServer: !!options.server }),
    ...pickPolicyOptions(options),
    ...(options.sessionStore && options.server
      ? {
          sessionStore: options.sessionStore,
          sessionFiles: ownedServerSessionExport(options.server, getClient, options.directory),
        }
      : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.stopGraceMs !== undefined ? { stopGraceMs: options.stopGraceMs } : {}),
    ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
    ...(options.maxBufferedEvents !== undefined ? { maxBufferedEvents: options.maxBufferedEvents } : {}),
    async capabilities(): Promise<AgentCapabilities> {
      const caps = opencodeDeclaredCapabilities({ ownServer: !!options.server });
      let c: OpencodeClient;
      try {
        c = await getClient();
        const health = await c.health();
        if (health.version) caps.version = health.version;
      } catch (error) {
        // No server to talk to (unreachable, not healthy, failed to start): a run would fail now.
        caps.available = false;
        caps.unavailableReason = ForgeError.from(error, 'OPENCODE_UNAVAILABLE').message;
        return caps;
      }
      caps.available = true;
      try {
        const providers = (await c.request('GET', '/config/providers', { timeoutMs: 5_000 })) as {
          providers?: Array<{ id: string; models?: Record<string, unknown> }>;
        };
        caps.models = (providers?.providers ?? []).flatMap((p) =>
          Object.keys(p.models ?? {}).map((m) => `${p.id}/${m}`),
        );
      } catch {
        // The model list is a bonus: a server that answers health can run.
      }
      return caps;
    },
    async run(ctx) {
      const c = await getClient();
      return runTurn(ctx, {
        client: c,
        ...((ctx.request.cwd ?? options.directory) ? { directory: (ctx.request.cwd ?? options.directory)! } : {}),
        ...(options.agent ? { agent: options.agent } : {}),
        ...(options.model ? { model: options.model } : {}),
        ...(options.permission ? { permission: options.permission } : {}),
        stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
        reconnect,
        sleep: options.sleep ?? abortableSleep,
      });
    },
    async close() {
      closing = true;
      const owned = server;
      server = undefined;
      if (owned)
        await owned.then(
          (s) => s.close(),
          () => {},
        );
    },
  });
}
