import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry } from '@forge/core';
import { sampleScript, scriptedAgent, type ScriptStep } from '@forge/core/testing';
import { openStore, type ForgeStore } from '@forge/store';
import { parseApiKeyList } from '../api-keys.js';
import { startPlatform, type Platform, type PlatformOptions } from '../app.js';
import type { PlatformConfig } from '../config.js';
import { apiClient } from './api-harness.js';
import { testConfig } from './test-config.js';

export const ADMIN_KEY = 'ops-admin-key-0123456789';
export const USER_KEY = 'ops-user-key-0123456789';
/** The user behind USER_KEY: never seen in a metric label. */
export const USER = 'opsuser';

const usage = (inputTokens: number, outputTokens: number, costUsd?: number): ScriptStep => ({
  type: 'usage',
  usage: { inputTokens, outputTokens, cacheReadTokens: 0, cacheWriteTokens: 0 },
  ...(costUsd !== undefined ? { costUsd } : {}),
});

/**
 * The scripted provider the operations tests drive: "costly" reports 10 in / 5 out tokens and $0.01 in a usage
 * event, and $0.03 in its result (the meter adds the $0.02 beyond); "cheap" 1 in / 2 out and no cost; "fail" ends
 * failed; "hang" waits until interrupted.
 */
function steps(prompt: string): ScriptStep[] {
  const [started] = sampleScript();
  if (prompt === 'costly') return [started!, usage(10, 5, 0.01), { type: 'message', text: 'done' }];
  if (prompt === 'hang') return [started!, { hang: true }];
  return [started!, usage(1, 2), { type: 'message', text: 'ok' }];
}

export interface OpsPlatform {
  platform: Platform;
  /** The platform's store before the metrics wrapped it (closing it makes the store unreachable). */
  store: ForgeStore;
  call: ReturnType<typeof apiClient>;
  /** An agent of USER's, made now. */
  newAgent(): Promise<string>;
  /** Sends a message as USER and waits for the run to end; returns the request id. */
  runToEnd(agentId: string, content: string, extra?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** The real platform (startPlatform) on `store`, with an admin key and a user key, and the scripted provider. */
export async function startOpsPlatform(
  store: ForgeStore | 'memory',
  more: Partial<PlatformConfig> = {},
  options: Partial<PlatformOptions> = {},
): Promise<OpsPlatform> {
  const scratch = await mkdtemp(join(tmpdir(), 'forge-platform-ops-'));
  const theStore = store === 'memory' ? await openStore({ memory: true }) : store;
  const registry = createProviderRegistry();
  registry.register(
    'scripted',
    scriptedAgent({
      steps: (r) => steps(r.prompt),
      outcome: (r) =>
        r.prompt === 'costly'
          ? { costUsd: 0.03 }
          : r.prompt === 'fail'
            ? { status: 'failed', error: { code: 'SCRIPTED_FAILURE', message: 'as scripted' } }
            : {},
    }),
  );
  const config: PlatformConfig = {
    ...testConfig(),
    port: 0,
    host: '127.0.0.1',
    dataDir: join(scratch, 'data'),
    apiKeys: parseApiKeyList(`opsadmin:${ADMIN_KEY},${USER}:${USER_KEY}`).map((k) => ({
      ...k,
      admin: k.userId === 'opsadmin',
    })),
    defaultProvider: 'scripted',
    webhookAllowPrivate: ['127.0.0.1'],
    ...more,
  };
  const platform = await startPlatform({ config, registry, store: theStore, pollMs: 50, ...options });
  const call = apiClient(platform.url, USER_KEY);
  const until = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    platform,
    store: theStore,
    call,
    async newAgent() {
      const res = await call('POST', '/api/v1/agents', { body: { provider: 'scripted' } });
      if (res.status !== 201) throw new Error(`agent not created: ${res.status} ${res.text}`);
      return res.json.agent_id as string;
    },
    async runToEnd(agentId, content, extra = {}) {
      const sent = await call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content, ...extra } });
      if (sent.status !== 202) throw new Error(`message refused: ${sent.status} ${sent.text}`);
      const requestId = sent.json.request_id as string;
      await until(async () => {
        const run = await call('GET', `/api/v1/agents/${agentId}/runs/${requestId}`);
        return !['queued', 'running'].includes(run.json.status as string);
      }, `run ${requestId}`);
      return requestId;
    },
    async close() {
      await platform.close().catch(() => {});
      await theStore.close().catch(() => {});
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
