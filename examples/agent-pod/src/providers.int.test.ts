import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import { type FakeGeminiApi, geminiBinPath, startFakeGeminiApi } from '@forge/acp/testing';
import { codexBinPath, type FakeResponsesApi, startFakeResponsesApi } from '@forge/codex/testing';
import { grpcAgent, serveAgent } from '@forge/transport-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from './config.js';
import { createPodProvider } from './providers.js';

// What a pod does with FORGE_PROVIDER=claude-code, end to end: the real CLI behind serveAgent,
// reached with grpcAgent, the model being the fake Messages API on 127.0.0.1.
describe('agent pod serving the real Claude Code CLI', () => {
  let api: FakeAnthropicApi;
  let scratch: string;

  beforeAll(async () => {
    api = await startFakeAnthropicApi({ respond: () => ({ text: 'hello from inside the pod' }) });
    scratch = await mkdtemp(join(tmpdir(), 'forge-pod-'));
  });
  afterAll(async () => {
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('runs a prompt through gRPC and returns the CLI’s answer with a resumable session', async () => {
    const config = readConfig(
      { FORGE_PROVIDER: 'claude-code', FORGE_BIN: claudeBinPath(), PORT: '0', HOST: '127.0.0.1' },
      scratch,
    );
    const provider = await createPodProvider(config, silentLogger);
    const server = await serveAgent(provider.agent, { port: 0, host: '127.0.0.1', logger: silentLogger });
    const client = grpcAgent({ baseUrl: server.url });
    try {
      const run = client.execute({
        prompt: 'say hello',
        env: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home') },
      });
      const { events, result } = await collectRun(run);
      expect(runProblems(events)).toEqual([]);
      expect(result.status).toBe('completed');
      expect(result.text).toBe('hello from inside the pod');
      expect(result.sessionId).toMatch(/\S/);
      expect((await client.status()).provider).toBe('claude-code');
      expect(events.some((e) => e.type === 'session.started')).toBe(true);
    } finally {
      await client.close();
      await server.close({ graceful: false });
      await provider.close();
    }
  });
});

// FORGE_PROVIDER=codex: the real Codex CLI behind serveAgent, its model the fake Responses API.
describe('agent pod serving the real Codex CLI', () => {
  let api: FakeResponsesApi;
  let scratch: string;

  beforeAll(async () => {
    api = await startFakeResponsesApi({ respond: () => ({ text: 'hello from codex in the pod' }) });
    scratch = await mkdtemp(join(tmpdir(), 'forge-pod-codex-'));
    await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
  });
  afterAll(async () => {
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('runs a prompt through gRPC with the provider configured from the environment', async () => {
    const config = readConfig(
      {
        FORGE_PROVIDER: 'codex',
        FORGE_BIN: codexBinPath(),
        FORGE_MODEL: 'fake-model',
        FORGE_CODEX_BASE_URL: api.url,
        FORGE_CODEX_KEY_ENV: 'FORGE_TEST_POD_CODEX_KEY',
        PORT: '0',
        HOST: '127.0.0.1',
      },
      scratch,
    );
    // The key is in the pod's own environment, as from a Secret: the adapter passes that one variable on.
    process.env.FORGE_TEST_POD_CODEX_KEY = 'sk-pod-key';
    const provider = await createPodProvider(config, silentLogger);
    const server = await serveAgent(provider.agent, { port: 0, host: '127.0.0.1', logger: silentLogger });
    const client = grpcAgent({ baseUrl: server.url });
    try {
      const run = client.execute({
        prompt: 'say hello',
        env: { HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') },
        timeoutMs: 60_000,
      });
      const { events, result } = await collectRun(run);
      expect(runProblems(events)).toEqual([]);
      expect(result.status).toBe('completed');
      expect(result.text).toBe('hello from codex in the pod');
      expect(result.sessionId).toMatch(/\S/);
      expect((await client.status()).provider).toBe('codex');
      expect(api.requests[0]!.headers.authorization).toBe('Bearer sk-pod-key');
    } finally {
      delete process.env.FORGE_TEST_POD_CODEX_KEY;
      await client.close();
      await server.close({ graceful: false });
      await provider.close();
    }
  });
});

// FORGE_PROVIDER=gemini: the real Gemini CLI (`gemini --acp`) behind serveAgent, its model the fake
// Gemini API; key and endpoint come from the pod's own environment, settings are written by the pod.
describe('agent pod serving the real Gemini CLI over ACP', () => {
  let api: FakeGeminiApi;
  let scratch: string;
  const saved = { key: process.env.GEMINI_API_KEY, url: process.env.GOOGLE_GEMINI_BASE_URL };

  beforeAll(async () => {
    api = await startFakeGeminiApi({ respond: () => ({ text: 'hello from gemini in the pod' }) });
    scratch = await mkdtemp(join(tmpdir(), 'forge-pod-gemini-'));
    await mkdir(join(scratch, 'work'));
    process.env.GEMINI_API_KEY = 'offline-fake-key';
    process.env.GOOGLE_GEMINI_BASE_URL = api.url;
  });
  afterAll(async () => {
    for (const [name, value] of [
      ['GEMINI_API_KEY', saved.key],
      ['GOOGLE_GEMINI_BASE_URL', saved.url],
    ] as const)
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('runs a prompt through gRPC, and continues the session', { timeout: 120_000 }, async () => {
    const config = readConfig(
      {
        FORGE_PROVIDER: 'gemini',
        FORGE_BIN: geminiBinPath(),
        FORGE_GEMINI_HOME: join(scratch, 'home'),
        PORT: '0',
        HOST: '127.0.0.1',
      },
      join(scratch, 'work'),
    );
    const provider = await createPodProvider(config, silentLogger);
    const server = await serveAgent(provider.agent, { port: 0, host: '127.0.0.1', logger: silentLogger });
    const client = grpcAgent({ baseUrl: server.url });
    try {
      const { events, result } = await collectRun(client.execute({ prompt: 'say hello', timeoutMs: 90_000 }));
      expect(runProblems(events)).toEqual([]);
      expect(result, JSON.stringify(result.error)).toMatchObject({
        status: 'completed',
        text: 'hello from gemini in the pod',
      });
      expect(events.some((e) => e.type === 'text.delta')).toBe(true);
      expect((await client.status()).provider).toBe('gemini');
      expect(api.requests.some((r) => r.headers['x-goog-api-key'] === 'offline-fake-key')).toBe(true);
    } finally {
      await client.close();
      await server.close({ graceful: false });
      await provider.close();
    }
  });

  it('FORGE_PROVIDER=acp runs the command it is given (a missing one says so in its capabilities)', async () => {
    const config = readConfig(
      { FORGE_PROVIDER: 'acp', FORGE_ACP_COMMAND: join(scratch, 'no-such-agent'), FORGE_ACP_ARGS: '["--acp"]' },
      scratch,
    );
    const provider = await createPodProvider(config, silentLogger);
    try {
      expect(provider.agent.provider).toBe('acp');
      const caps = await provider.agent.capabilities();
      expect(String(caps.extra?.error)).toContain('no-such-agent');
    } finally {
      await provider.close();
    }
  });
});
