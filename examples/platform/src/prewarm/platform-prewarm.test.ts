import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { claudeCode } from '@forge/claude-code';
import { fakeClaudeRunner, type FakeClaudeCall } from '@forge/claude-code/testing';
import { createProviderRegistry } from '@forge/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseApiKeyList } from '../api-keys.js';
import { startPlatform, type Platform } from '../app.js';
import { loadConfig } from '../config.js';
import { apiClient, testStore } from '../test-support/api-harness.js';

const KEY = 'prewarm-alice-key-0123456';
const served = (call: FakeClaudeCall) => call.cli.received.some((m) => m.type === 'user');
const exited = (call: FakeClaudeCall) => call.exit !== undefined;

/**
 * The wiring, through the real platform (startPlatform) on scripted Claude Code processes: an agent created with
 * settings gets a spare shaped by them, its first message runs in it, deleting the agent ends the next spare, and
 * closing the platform leaves no process.
 */
describe('platform prewarm (FORGE_PREWARM_MAX)', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-prewarm-'));
    // Opened once here: an in-memory PGlite takes seconds (tens under load).
    await testStore();
  }, 120_000);
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const start = async (prewarmMax: number) => {
    const runner = fakeClaudeRunner();
    const registry = createProviderRegistry();
    registry.register('claude-code', claudeCode({ runner }));
    const platform = await startPlatform({
      config: {
        ...loadConfig([], {}),
        port: 0,
        host: '127.0.0.1',
        dataDir: join(scratch, `data-${prewarmMax}`),
        apiKeys: parseApiKeyList(`alice:${KEY}`),
        defaultProvider: 'claude-code',
        prewarmMax,
      },
      registry,
      // The file's one in-memory store (the platform's close leaves it open).
      store: await testStore(),
      pollMs: 20,
    });
    return { runner, platform, call: apiClient(platform.url, KEY) };
  };
  const send = async (platform: Platform, agentId: string, body: Record<string, unknown>) => {
    const call = apiClient(platform.url, KEY);
    const sent = await call('POST', `/api/v1/agents/${agentId}/messages`, { body });
    expect(sent.status).toBe(202);
    for (;;) {
      const run = await call('GET', `/api/v1/agents/${agentId}/runs/${sent.json.request_id}`);
      if (['completed', 'failed', 'cancelled'].includes(run.json.status)) return run.json;
      await sleep(20);
    }
  };

  it('created → spare; first message runs in it; delete ends the next spare; close leaves no process', {
    timeout: 60_000,
  }, async () => {
    const { runner, platform, call } = await start(2);
    try {
      const created = await call('POST', '/api/v1/agents', { body: { budget: { maxTurns: 3 } } });
      expect(created.status).toBe(201);
      const agentId = created.json.agent_id as string;
      await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
      const spare = runner.calls[0]!;
      expect(spare.args).toContain('--max-turns=3');
      expect(spare.options.cwd).toContain(agentId);

      const run = await send(platform, agentId, { content: 'hello' });
      expect(run).toMatchObject({ status: 'completed', result: { text: 'You said: hello' } });
      expect(served(spare)).toBe(true);
      expect(runner.calls.filter(served)).toHaveLength(1);
      // The next spare, after the run.
      await vi.waitFor(() => expect(runner.calls).toHaveLength(2));
      expect(runner.calls[1]!.args).toEqual(spare.args);

      expect((await call('DELETE', `/api/v1/agents/${agentId}`)).status).toBe(200);
      await vi.waitFor(() => expect(exited(runner.calls[1]!)).toBe(true));

      await call('POST', '/api/v1/agents', { body: {} });
      await vi.waitFor(() => expect(runner.calls).toHaveLength(3));
    } finally {
      await platform.close();
    }
    for (const c of runner.calls) expect(exited(c)).toBe(true);
  });

  it('drain (SIGTERM) ends every spare at once', { timeout: 60_000 }, async () => {
    const { runner, platform, call } = await start(2);
    try {
      await call('POST', '/api/v1/agents', { body: {} });
      await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
      await platform.drain(0);
      await vi.waitFor(() => expect(exited(runner.calls[0]!)).toBe(true));
    } finally {
      await platform.close();
    }
  });

  it('FORGE_PREWARM_MAX=0 keeps none', { timeout: 60_000 }, async () => {
    const { runner, platform, call } = await start(0);
    try {
      const created = await call('POST', '/api/v1/agents', { body: {} });
      const run = await send(platform, created.json.agent_id, { content: 'cold' });
      expect(run.status).toBe('completed');
      await sleep(50);
      expect(runner.calls).toHaveLength(1);
    } finally {
      await platform.close();
    }
  });
});
