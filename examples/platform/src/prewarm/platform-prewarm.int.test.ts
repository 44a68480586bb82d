import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import { localProcessRunner, type ProcessRunner } from '@forge/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseApiKeyList } from '../api-keys.js';
import { startPlatform, type Platform } from '../app.js';
import { loadConfig } from '../config.js';
import { buildProviderRegistry } from '../providers/registry.js';
import { apiClient } from '../test-support/api-harness.js';

const KEY = 'prewarm-int-alice-key-0123';

interface Spawned {
  pid: number | undefined;
  /** What was written to its stdin (stream-json lines). */
  written: string[];
}

/**
 * The real platform running the real Claude Code CLI against the fake Messages API with FORGE_PREWARM_MAX=2: after
 * an agent's first run, a spare CLI is started in its workspace, and the agent's second session's first turn is
 * written into that process (started before the message was sent), not into a new one. No process survives close.
 */
describe('platform prewarm with the real Claude Code CLI', () => {
  let api: FakeAnthropicApi;
  let scratch: string;
  let platform: Platform | undefined;
  const spawned: Spawned[] = [];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-prewarm-int-'));
    api = await startFakeAnthropicApi({ respond: (req) => ({ text: `Answer to: ${req.lastUserText}` }) });
  });
  afterAll(async () => {
    await platform?.close();
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('the second session’s first turn runs in the spare started after the first run', {
    timeout: 150_000,
  }, async () => {
    // Records each CLI process and what it was sent, so the test can tell which process served a turn.
    const local = localProcessRunner();
    const runner: ProcessRunner = {
      async spawn(command, args, options) {
        const p = await local.spawn(command, args, options);
        const record: Spawned = { pid: p.pid, written: [] };
        spawned.push(record);
        const write = p.stdin.write.bind(p.stdin);
        p.stdin.write = (data) => {
          record.written.push(typeof data === 'string' ? data : Buffer.from(data).toString());
          return write(data);
        };
        return p;
      },
    };
    const config = {
      ...loadConfig([], {}),
      port: 0,
      host: '127.0.0.1',
      dataDir: join(scratch, 'data'),
      apiKeys: parseApiKeyList(`alice:${KEY}`),
      defaultProvider: 'claude-code',
      prewarmMax: 2,
    };
    platform = await startPlatform({
      config,
      registry: buildProviderRegistry({
        runner,
        claudeBin: claudeBinPath(),
        claudeEnv: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home') },
        opencodeBin: 'opencode',
        defaultProvider: 'claude-code',
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      }),
      pollMs: 50,
    });
    const call = apiClient(platform.url, KEY);
    const send = async (agentId: string, content: string) => {
      const sent = await call('POST', `/api/v1/agents/${agentId}/messages`, { body: { content } });
      expect(sent.status).toBe(202);
      for (;;) {
        const run = await call('GET', `/api/v1/agents/${agentId}/runs/${sent.json.request_id}`);
        if (['completed', 'failed', 'cancelled'].includes(run.json.status)) return run.json;
        await sleep(50);
      }
    };
    const servedWith = (text: string) => spawned.filter((s) => s.written.some((w) => w.includes(text)));

    const created = await call('POST', '/api/v1/agents', { body: {} });
    expect(created.status).toBe(201);
    const agentId = created.json.agent_id as string;
    // The agent's spare, started when it was created.
    await vi.waitFor(() => expect(spawned).toHaveLength(1), { timeout: 30_000 });
    const first = await send(agentId, 'first PAPAYA');
    expect(first).toMatchObject({ status: 'completed', result: { text: 'Answer to: first PAPAYA' } });

    // The first session ran in the agent's first spare; after it, the next spare is started.
    expect(servedWith('first PAPAYA')).toEqual([spawned[0]]);
    const waiting = () => spawned.filter((s) => !s.written.some((w) => w.includes('"type":"user"')));
    await vi.waitFor(() => expect(waiting()).toHaveLength(1), { timeout: 30_000 });
    const spares = waiting();
    const before = spawned.length;
    const second = await send(agentId, 'second MANGO');
    expect(second).toMatchObject({ status: 'completed', result: { text: 'Answer to: second MANGO' } });
    expect(second.result.sessionId).not.toBe(first.result.sessionId);
    // Written into the spare, started before the message was sent.
    expect(servedWith('second MANGO')).toEqual([spares[0]]);
    expect(spawned.indexOf(spares[0]!)).toBeLessThan(before);

    await platform.close();
    platform = undefined;
    for (const s of spawned) expect(alive(s.pid)).toBe(false);
  });
});

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
