import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { geminiCli } from '@forge/acp';
import { fakeGeminiEnv, geminiBinPath, startFakeGeminiApi } from '@forge/acp/testing';
import { claudeCode } from '@forge/claude-code';
import { claudeBinPath, fakeAnthropicEnv, startFakeAnthropicApi } from '@forge/claude-code/testing';
import { codex } from '@forge/codex';
import { codexBinPath, fakeResponsesProvider, startFakeResponsesApi } from '@forge/codex/testing';
import { createProviderRegistry, type ProviderRegistry } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { opencode } from '@forge/opencode';
import { fakeOpencodeConfig, isolatedOpencodeEnv, opencodeBinPath, startFakeOpenAiApi } from '@forge/opencode/testing';
import { grpcAgent, serveAgent } from '@forge/transport-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 13's "done when": one host registry holding gemini, codex, claude-code, opencode and a
 * gRPC pod, the same request run on each by name — every one a real program (the pod serves the
 * real Codex CLI) against its own fake model server on 127.0.0.1.
 */
describe('one registry, five providers, the same request by name', () => {
  let scratch: string;
  let registry: ProviderRegistry;
  const closers: Array<() => Promise<unknown>> = [];
  const greeting = (who: string) => `Hello from ${who}`;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-one-registry-'));
    await mkdir(join(scratch, 'codex-home'), { recursive: true });
    await mkdir(join(scratch, 'work'), { recursive: true });
    const anthropic = await startFakeAnthropicApi({ respond: () => ({ text: greeting('claude-code') }) });
    const openai = await startFakeOpenAiApi({ reply: () => ({ kind: 'text', text: greeting('opencode') }) });
    const responses = await startFakeResponsesApi({ respond: () => ({ text: greeting('codex') }) });
    const gemini = await startFakeGeminiApi({ respond: () => ({ text: greeting('gemini') }) });
    closers.push(
      () => anthropic.close(),
      () => openai.close(),
      () => responses.close(),
      () => gemini.close(),
    );
    const codexAgent = () =>
      codex({
        bin: codexBinPath(),
        model: 'fake-model',
        provider: fakeResponsesProvider(responses.url),
        env: { CODEX_HOME: join(scratch, 'codex-home'), HOME: scratch },
      });
    // The pod: serveAgent in front of a Codex agent, reached over gRPC.
    const pod = await serveAgent(codexAgent(), { port: 0, host: '127.0.0.1' });
    closers.push(() => pod.close({ graceful: false }));

    registry = createProviderRegistry();
    registry.register('gemini', async () =>
      geminiCli({
        bin: geminiBinPath(),
        env: await fakeGeminiEnv(gemini.url, join(scratch, 'gemini-home')),
        initializeTimeoutMs: 60_000,
      }),
    );
    registry.register('codex', () => codexAgent());
    registry.register('claude-code', () =>
      claudeCode({
        bin: claudeBinPath(),
        env: { ...fakeAnthropicEnv(anthropic.url), HOME: join(scratch, 'claude-home') },
      }),
    );
    registry.register('opencode', () =>
      opencode({
        server: {
          bin: opencodeBinPath(),
          cwd: scratch,
          env: isolatedOpencodeEnv(scratch),
          inheritEnv: false,
          config: fakeOpencodeConfig(openai.url),
          startTimeoutMs: 60_000,
        },
      }),
    );
    registry.register('pod', () => grpcAgent({ baseUrl: pod.url, provider: 'pod' }));
  }, 60_000);
  afterAll(async () => {
    await registry?.close();
    for (const close of closers.reverse()) await close().catch(() => undefined);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it.each([
    ['gemini', 'gemini'],
    ['codex', 'codex'],
    ['claude-code', 'claude-code'],
    ['opencode', 'opencode'],
    ['pod', 'codex'],
  ])('%s', { timeout: 120_000 }, async (name, model) => {
    const agent = await registry.get(name);
    const run = agent.execute({ prompt: 'say hello', cwd: join(scratch, 'work'), timeoutMs: 90_000 });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result, JSON.stringify(result.error)).toMatchObject({ status: 'completed', text: greeting(model) });
    expect(result.sessionId).toMatch(/\S/);
    expect(events.every((e) => e.provider === name)).toBe(true);
  });
});
