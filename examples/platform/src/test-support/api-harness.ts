import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry, type CodeAgent, type ProviderRegistry } from '@forge/core';
import { openStore, type ForgeStore } from '@forge/store';
import { expect } from 'vitest';
import { ApiKeyStore, markAdmins, parseApiKeyList } from '../api-keys.js';
import { AttachService } from '../attach/attach-service.js';
import { KeyAuthenticator } from '../key-authenticator.js';
import type { AgentBackend } from '../backends/backend.js';
import { localBackend } from '../backends/local-backend.js';
import { createApiHandler, type ApiOptions } from '../http/api.js';
import { listen } from '../http/listen.js';
import { memoryLogger } from '../logger.js';
import { scriptedDemoAgent } from '../providers/scripted-demo.js';
import { RunManager, type RunManagerOptions } from '../run-manager.js';
import type { WebhookDispatcherPort } from '../webhook-port.js';

export const ALICE_KEY = 'alice-key-0123456789';
export const BOB_KEY = 'bob-key-0123456789';

export interface HarnessOptions {
  providers?: Record<string, CodeAgent>;
  webhooks?: WebhookDispatcherPort;
  backend?: (registry: ProviderRegistry, dataDir: string) => AgentBackend;
  api?: Partial<
    Pick<
      ApiOptions,
      | 'rateLimitPerMinute'
      | 'maxAgentsPerKey'
      | 'remoteAgents'
      | 'clock'
      | 'authFailuresPerMinute'
      | 'mcpServers'
      | 'allowPrivateNetworks'
      | 'maxAttachmentBytes'
      | 'runDefaults'
      | 'agentLogs'
      | 'health'
      | 'metrics'
      | 'rateWindows'
      | 'rateLimitPerAddress'
    >
  >;
  /** FORGE_API_KEYS (list or JSON); default alice and bob with ALICE_KEY and BOB_KEY. */
  apiKeys?: string;
  /** FORGE_ADMIN_USERS: whose keys are admin keys (none by default). */
  adminUsers?: string;
  /** Queued messages per agent before 429. */
  maxQueuedPerAgent?: number;
  /** The store (default: the file's shared in-memory PGlite): replicas share one. */
  store?: ForgeStore;
  /** More RunManager options (instanceId, maxRunning, replyTimeoutMs…). */
  runManager?: Partial<Omit<RunManagerOptions, 'store' | 'agents'>>;
}

let shared: { file: string | undefined; opened: Promise<ForgeStore>; store: Promise<ForgeStore> } | undefined;

/**
 * One in-memory PGlite per worker process, shared by a file's harnesses. Not exclusive: a harness must not take
 * over the runs of another one in the same file.
 * Test files share a worker and its modules (vitest.config.ts), so this module outlives a file: the next file that
 * asks gets the same database emptied (every table as the migrations left it: empty), not a new one. Opening and
 * migrating one cost ~1 s of CPU each time, and ~40 files asked, in a run that is CPU-bound on two cores.
 */
export function testStore(): Promise<ForgeStore> {
  const file = expect.getState().testPath;
  if (shared && shared.file === file) return shared.store;
  const previous = shared?.opened;
  const opened = previous
    ? previous.then(
        async (store) => {
          await emptyTables(store);
          return store;
        },
        () => openStore({ memory: true }),
      )
    : openStore({ memory: true });
  const store = opened.then((s) => ({ ...s, exclusive: false, close: async () => {} }));
  shared = { file, opened, store };
  return store;
}

/** Every table but the migrations' own, emptied in one statement (their sequences restarted). */
async function emptyTables(store: ForgeStore): Promise<void> {
  const tables = await store.sql.query<{ name: string }>(
    "select quote_ident(tablename) as name from pg_tables where schemaname = 'public' and tablename <> 'forge_schema_migrations'",
  );
  if (tables.length > 0)
    await store.sql.exec(`truncate table ${tables.map((t) => t.name).join(', ')} restart identity cascade`);
}

/** The API over a real HTTP server on 127.0.0.1, with the local backend in a scratch dir and in-memory logs. */
export async function startApiHarness(options: HarnessOptions = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'forge-platform-test-'));
  const registry = createProviderRegistry();
  for (const [name, agent] of Object.entries(options.providers ?? { scripted: scriptedDemoAgent() }))
    registry.register(name, agent);
  const logger = memoryLogger();
  const backend = options.backend ? options.backend(registry, dataDir) : localBackend({ dataDir, registry });
  const keys = new ApiKeyStore(
    markAdmins(parseApiKeyList(options.apiKeys ?? `alice:${ALICE_KEY},bob:${BOB_KEY}`), options.adminUsers ?? ''),
  );
  const store = options.store ?? (await testStore());
  const authenticator = new KeyAuthenticator({ bootstrap: keys, stored: store.apiKeys });
  const runs = await RunManager.create({
    keyCaps: (keyId) => keys.capsOf(keyId),
    store,
    agents: async (userId, agentId) => {
      const agent = await backend.get(userId, agentId).catch(() => undefined);
      return agent?.ready ? backend.agentFor(agent) : undefined;
    },
    logger,
    pollMs: 50,
    ...(options.maxQueuedPerAgent ? { maxQueuedPerAgent: options.maxQueuedPerAgent } : {}),
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    ...options.runManager,
  });
  const attach = new AttachService({ keys: authenticator, audit: store.audit, backend, logger });
  const handler = createApiHandler({
    keys: authenticator,
    attach,
    backend,
    runs,
    defaultProvider: registry.list()[0]!,
    rateLimitPerMinute: 1000,
    maxAgentsPerKey: 10,
    createTimeoutMs: 10_000,
    logger,
    ...options.api,
  });
  const server = await listen(handler, { port: 0, host: '127.0.0.1', upgrade: attach.upgrade });

  const call = apiClient(server.url, ALICE_KEY);

  return {
    url: server.url,
    routes: handler.routes,
    dataDir,
    registry,
    backend,
    runs,
    store,
    logger,
    call,
    async close() {
      await runs.close(1_000);
      await attach.close();
      await server.close();
      await registry.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type ApiHarness = Awaited<ReturnType<typeof startApiHarness>>;

export interface CallOptions {
  /** Default: the client's key; null sends no Authorization header. */
  key?: string | null;
  /** JSON-encoded unless it is a string already. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A small client for the platform's API, for tests: status, headers, parsed JSON and raw text. */
export function apiClient(baseUrl: string, defaultKey: string) {
  return async (method: string, path: string, init: CallOptions = {}) => {
    const key = init.key === undefined ? defaultKey : init.key;
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(key !== null ? { authorization: `Bearer ${key}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined
        ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
        : {}),
    });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };
}

/** Reads an SSE response to its end and returns the parsed `data:` payloads. */
export async function readSse(res: Response): Promise<any[]> {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  const text = await res.text();
  return text
    .split('\n\n')
    .map((frame) =>
      frame
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .join('\n'),
    )
    .filter(Boolean)
    .map((d) => JSON.parse(d));
}
