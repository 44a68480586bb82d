import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  codexBinPath,
  fakeResponsesProvider,
  startFakeResponsesApi,
  type FakeResponsesApi,
} from '@forge/codex/testing';
import { type FakeGeminiApi, fakeGeminiEnv, geminiBinPath, startFakeGeminiApi } from '@forge/acp/testing';
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
    expect(registry.list()).toEqual(['claude-code', 'opencode', 'codex', 'gemini', 'scripted']);
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

/** `codex` by name: the real Codex CLI against a fake Responses API, in an agent's workspace, then resumed. */
describe('buildProviderRegistry: codex through the local backend', () => {
  let scratch: string;
  let api: FakeResponsesApi;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-codex-'));
    await mkdir(join(scratch, 'codex-home'), { recursive: true });
    api = await startFakeResponsesApi({
      respond: (req) => ({
        text: req.lastUserText.includes('again') ? 'Resumed in the workspace' : 'Hello from Codex',
      }),
    });
  });
  afterAll(async () => {
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('runs a message in the agent workspace and resumes its session', async () => {
    const registry = buildProviderRegistry({
      claudeBin: 'claude',
      opencodeBin: 'opencode',
      codexBin: codexBinPath(),
      codexProvider: fakeResponsesProvider(api.url),
      codexEnv: { CODEX_HOME: join(scratch, 'codex-home'), HOME: scratch },
      defaultProvider: 'codex',
      logger: silentLogger,
    });
    expect(registry.defaultName).toBe('codex');
    const backend = localBackend({ dataDir: join(scratch, 'agents'), registry });
    try {
      const record = await backend.create({ userId: 'alice', provider: 'codex', timeoutMs: 1000 });
      const agent = await backend.agentFor(record);
      const first = await collectRun(agent.execute({ prompt: 'say hello', model: 'fake-model', timeoutMs: 60_000 }));
      expect(first.result, JSON.stringify(first.result.error)).toMatchObject({
        status: 'completed',
        text: 'Hello from Codex',
      });
      // The CLI ran in the agent's workspace (the fake sees it in the environment context).
      expect(JSON.stringify(api.requests[0]!.body.input)).toContain(
        join(scratch, 'agents', 'alice', record.agentId, 'workspace'),
      );
      const second = await collectRun(
        agent.execute({ prompt: 'again', model: 'fake-model', sessionId: first.result.sessionId!, timeoutMs: 60_000 }),
      );
      expect(second.result).toMatchObject({
        status: 'completed',
        text: 'Resumed in the workspace',
        sessionId: first.result.sessionId,
      });
    } finally {
      await registry.close();
    }
  }, 90_000);
});

/** `gemini` and `acp` by name: the real Gemini CLI over ACP against a fake Gemini API, in an agent's workspace. */
describe('buildProviderRegistry: gemini and acp through the local backend', () => {
  let scratch: string;
  let api: FakeGeminiApi;
  let env: Record<string, string>;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-gemini-'));
    api = await startFakeGeminiApi({ respond: (req) => ({ text: `Gemini here. You said: ${req.lastUserText}` }) });
    env = await fakeGeminiEnv(api.url, join(scratch, 'home'));
  });
  afterAll(async () => {
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('runs the same message on gemini and on acp (gemini --acp as a plain ACP command)', async () => {
    const registry = buildProviderRegistry({
      claudeBin: 'claude',
      opencodeBin: 'opencode',
      geminiBin: geminiBinPath(),
      geminiEnv: env,
      acp: { command: geminiBinPath(), args: ['--acp'], env: { ...env, GEMINI_CLI_NO_RELAUNCH: 'true' } },
      defaultProvider: 'gemini',
      logger: silentLogger,
    });
    expect(registry.list()).toEqual(['claude-code', 'opencode', 'codex', 'gemini', 'acp', 'scripted']);
    const backend = localBackend({ dataDir: join(scratch, 'agents'), registry });
    try {
      for (const provider of ['gemini', 'acp']) {
        const record = await backend.create({ userId: 'alice', provider, timeoutMs: 1000 });
        const agent = await backend.agentFor(record);
        const { result, events } = await collectRun(agent.execute({ prompt: 'say hello', timeoutMs: 90_000 }));
        expect(result, `${provider}: ${JSON.stringify(result.error)}`).toMatchObject({
          status: 'completed',
          text: 'Gemini here. You said: say hello',
        });
        expect(events[0]).toMatchObject({ provider });
      }
    } finally {
      await registry.close();
    }
  }, 180_000);
});
