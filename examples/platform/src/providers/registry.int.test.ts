import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@forge/core';
import { collectRun } from '@forge/core/testing';
import {
  fakeOpencodeConfig,
  isolatedOpencodeEnv,
  opencodeBinPath,
  startFakeOpenAiApi,
  type FakeOpenAiApi,
} from '@forge/opencode/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBackend } from '../backends/local-backend.js';
import { buildProviderRegistry } from './registry.js';

/** The platform's own registry wiring: `opencode` owns a real `opencode serve` (against a fake model), started on first use. */
describe('buildProviderRegistry: opencode through the local backend', () => {
  let scratch: string;
  let api: FakeOpenAiApi;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-opencode-'));
    api = await startFakeOpenAiApi({ reply: () => ({ kind: 'text', text: 'Hello from the fake OpenCode model' }) });
  });
  afterAll(async () => {
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('runs a message in the agent workspace and stops the server on close', async () => {
    const registry = buildProviderRegistry({
      claudeBin: 'claude',
      opencodeBin: opencodeBinPath(),
      opencodeServer: {
        cwd: scratch,
        env: isolatedOpencodeEnv(scratch),
        inheritEnv: false,
        config: fakeOpencodeConfig(api.url),
        startTimeoutMs: 60_000,
      },
      defaultProvider: 'opencode',
      logger: silentLogger,
    });
    expect(registry.list()).toEqual(['claude-code', 'opencode', 'scripted']);
    expect(registry.defaultName).toBe('opencode');
    const backend = localBackend({ dataDir: join(scratch, 'agents'), registry });
    try {
      const record = await backend.create({ userId: 'alice', provider: 'opencode', timeoutMs: 1000 });
      const agent = await backend.agentFor(record);
      const { result, events } = await collectRun(agent.execute({ prompt: 'say hello', timeoutMs: 60_000 }));
      expect(result, JSON.stringify(result.error)).toMatchObject({
        status: 'completed',
        text: 'Hello from the fake OpenCode model',
      });
      expect(events.at(-1)?.type).toBe('run.completed');
      expect(events[0]).toMatchObject({
        type: 'session.started',
        cwd: join(scratch, 'agents', 'alice', record.agentId, 'workspace'),
      });
    } finally {
      await registry.close();
    }
  }, 90_000);
});
