import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeCode } from '@forge/claude-code';
import { fakeClaudeRunner, type FakeClaudeCall, type FakeClaudeRunner } from '@forge/claude-code/testing';
import { createProviderRegistry, type ProviderRegistry } from '@forge/core';
import { collectRun } from '@forge/core/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentRecord } from '../backends/backend.js';
import { localBackend } from '../backends/local-backend.js';
import { prewarmingBackend, type PrewarmingBackend } from './prewarming-backend.js';
import { SpareKeeper } from './spare-keeper.js';

const served = (call: FakeClaudeCall) => call.cli.received.some((m) => m.type === 'user');
const exited = (call: FakeClaudeCall) => call.exit !== undefined;

describe('prewarmingBackend (local backend, claude-code on scripted CLI processes)', () => {
  let dir: string;
  let runner: FakeClaudeRunner;
  let backend: PrewarmingBackend;
  let registry: ProviderRegistry;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-prewarm-'));
  });
  afterEach(async () => {
    await backend?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const make = (max: number, idleMs = 60_000) => {
    runner = fakeClaudeRunner();
    registry = createProviderRegistry();
    registry.register('claude-code', claudeCode({ runner }));
    const inner = localBackend({ dataDir: dir, registry });
    backend = prewarmingBackend(inner, {
      keeper: new SpareKeeper({ max, idleMs }),
      defaultsOf: async () => ({ model: 'sonnet' }),
    });
    return backend;
  };
  const create = async () => {
    const agent = await backend.create({ userId: 'alice', provider: 'claude-code', timeoutMs: 1000 });
    await backend.created(agent);
    return agent;
  };
  const workspace = (agent: AgentRecord) => join(dir, 'alice', agent.agentId, 'workspace');

  it('a created agent gets a spare in its workspace, shaped by its defaults; its first new session runs in it', async () => {
    make(2);
    const agent = await create();
    await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
    const spare = runner.calls[0]!;
    expect(spare.options.cwd).toBe(workspace(agent));
    expect(spare.args).toContain('--model=sonnet');

    const view = await backend.agentFor(agent);
    const { result } = await collectRun(view.execute({ prompt: 'first', model: 'sonnet' }));
    expect(result).toMatchObject({ status: 'completed', text: 'You said: first' });
    // Served by the process started before the message; once the run is over, the next spare starts.
    expect(served(spare)).toBe(true);
    await vi.waitFor(() => expect(runner.calls).toHaveLength(2));
    expect(runner.calls[1]!.args).toEqual(spare.args);
    expect(served(runner.calls[1]!)).toBe(false);

    const { result: second } = await collectRun(view.execute({ prompt: 'second', model: 'sonnet' }));
    expect(second).toMatchObject({ status: 'completed', text: 'You said: second' });
    expect(served(runner.calls[1]!)).toBe(true);
    await vi.waitFor(() => expect(runner.calls).toHaveLength(3));
  });

  it('a run with other options shapes the next spare; a follow-up keeps the spare for the next new session', async () => {
    make(2);
    const agent = await create();
    await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
    const view = await backend.agentFor(agent);
    // Other options: a cold start, then a spare of its shape replaces the default one.
    const { result } = await collectRun(view.execute({ prompt: 'opus please', model: 'opus' }));
    expect(served(runner.calls[0]!)).toBe(false);
    expect(runner.calls[1]!.args).toContain('--model=opus');
    await vi.waitFor(() => expect(runner.calls).toHaveLength(3));
    expect(runner.calls[2]!.args).toContain('--model=opus');
    await vi.waitFor(() => expect(exited(runner.calls[0]!)).toBe(true));
    // A follow-up runs in its session's warm process and leaves the spare waiting.
    await collectRun(view.execute({ prompt: 'more', model: 'opus', sessionId: result.sessionId! }));
    expect(served(runner.calls[2]!)).toBe(false);
    expect(exited(runner.calls[2]!)).toBe(false);
    expect(runner.calls).toHaveLength(3);
  });

  it('at the cap, the least recently active agent’s spare ends', async () => {
    make(1);
    const a = await create();
    await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
    await create();
    await vi.waitFor(() => expect(runner.calls).toHaveLength(2));
    expect(runner.calls[1]!.options.cwd).not.toBe(workspace(a));
    await vi.waitFor(() => expect(exited(runner.calls[0]!)).toBe(true));
    expect(exited(runner.calls[1]!)).toBe(false);
  });

  it('a spare nobody takes ends after idleMs', async () => {
    make(2, 20);
    await create();
    await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
    await vi.waitFor(() => expect(exited(runner.calls[0]!)).toBe(true));
  });

  it('deleting an agent ends its spare, and a run ending after the deletion starts none', async () => {
    make(2);
    const agent = await create();
    await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
    const view = await backend.agentFor(agent);
    const run = view.execute({ prompt: 'late', model: 'opus' });
    expect(await backend.delete('alice', agent.agentId)).toBe(true);
    await vi.waitFor(() => expect(exited(runner.calls[0]!)).toBe(true));
    await collectRun(run);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Only the run's own process, no spare after it.
    expect(runner.calls).toHaveLength(2);
  });

  it('close ends every spare (the provider still open): no process is left', async () => {
    make(3);
    await create();
    await create();
    await vi.waitFor(() => expect(runner.calls).toHaveLength(2));
    await backend.close();
    await vi.waitFor(() => {
      for (const call of runner.calls) expect(exited(call)).toBe(true);
    });
  });
});
