import { ValidationError, type AgentEvent } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { RunManager } from './run-manager.js';
import type { WebhookDispatcherPort } from './webhook-port.js';

const chatty = (n: number) =>
  scriptedAgent({ steps: Array.from({ length: n }, (_, i) => ({ type: 'text.delta' as const, text: `${i} ` })) });

describe('RunManager', () => {
  it('keeps at most bufferEvents events of a run, dropping the oldest', async () => {
    const runs = new RunManager({ bufferEvents: 5 });
    const live = await runs.start({ userId: 'u', agentId: 'a', agent: chatty(20), request: { prompt: 'go' } });
    await live.pumped;
    expect(live.events.map((e) => e.seq)).toEqual([17, 18, 19, 20, 21]);
    expect(live.result?.status).toBe('completed');
    await runs.close();
  });

  it('forgets a finished run after the linger, and never shows one user another’s run', async () => {
    const runs = new RunManager({ lingerMs: 0 });
    const live = await runs.start({ userId: 'u', agentId: 'a', agent: chatty(1), request: { prompt: 'go' } });
    expect(runs.get('other', live.requestId)).toBeUndefined();
    await live.pumped;
    expect(runs.get('u', live.requestId)).toBe(live);
    await new Promise((r) => setTimeout(r, 5));
    expect(runs.get('u', live.requestId)).toBeUndefined();
    await runs.close();
  });

  it('gives a late subscriber the backlog and then the live events, ending with run.completed', async () => {
    const runs = new RunManager();
    const agent = scriptedAgent({
      steps: [
        { type: 'text.delta', text: 'a' },
        { type: 'permission.requested', id: 'p1', tool: 'Bash', input: {} },
        { awaitPermission: 'p1' },
        { type: 'text.delta', text: 'b' },
      ],
    });
    const live = await runs.start({ userId: 'u', agentId: 'a', agent, request: { prompt: 'go' } });
    while (live.events.length < 2) await new Promise((r) => setImmediate(r));
    const seen: AgentEvent[] = [];
    const { backlog } = live.subscribe(0, (e) => seen.push(e));
    expect(backlog.map((e) => e.type)).toEqual(['text.delta', 'permission.requested']);
    await live.run.respond('p1', 'allow');
    await live.pumped;
    expect(seen.map((e) => e.type)).toEqual(['tool.result', 'text.delta', 'run.completed']);
    expect(live.subscribe(0, () => {}).backlog.length).toBe(5);
    await runs.close();
  });

  it('validates before anything starts, and refuses a second live run per agent', async () => {
    const opened: string[] = [];
    const webhooks: WebhookDispatcherPort = {
      open: async (o) => (opened.push(o.requestId), { send: () => {}, done: Promise.resolve() }),
      close: async () => {},
    };
    const runs = new RunManager({ webhooks });
    await expect(
      runs.start({
        userId: 'u',
        agentId: 'a',
        agent: chatty(1),
        request: { prompt: ' ' },
        webhook: { url: 'https://x' },
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(opened).toEqual([]);
    const hang = scriptedAgent({ steps: [{ hang: true }] });
    const first = await runs.start({ userId: 'u', agentId: 'a', agent: hang, request: { prompt: 'go' } });
    const second = runs.start({ userId: 'u', agentId: 'a', agent: hang, request: { prompt: 'go' } });
    await expect(second).rejects.toMatchObject({ status: 409, code: 'AGENT_BUSY' });
    await expect(second).rejects.toBeInstanceOf(ApiError);
    // Another agent of the same user is free.
    const other = await runs.start({ userId: 'u', agentId: 'b', agent: hang, request: { prompt: 'go' } });
    const stopped = await runs.interrupt('u', 'a');
    expect(stopped.map((r) => r.result?.status)).toEqual(['cancelled']);
    expect(first.done).toBe(true);
    expect(other.done).toBe(false);
    await runs.close();
    expect(other.result?.status).toBe('cancelled');
    await expect(
      runs.start({ userId: 'u', agentId: 'c', agent: hang, request: { prompt: 'go' } }),
    ).rejects.toMatchObject({ status: 503 });
  });

  it('ends an opened webhook channel with a failed run.completed when the run cannot start', async () => {
    const sent: AgentEvent[] = [];
    const webhooks: WebhookDispatcherPort = {
      open: async () => ({ send: (e) => void sent.push(e), done: Promise.resolve() }),
      close: async () => {},
    };
    const runs = new RunManager({ webhooks });
    const broken = {
      ...chatty(1),
      provider: 'broken',
      execute: () => {
        throw new Error('cannot start');
      },
    };
    await expect(
      runs.start({
        userId: 'u',
        agentId: 'a',
        agent: broken,
        request: { prompt: 'go' },
        webhook: { url: 'https://x' },
      }),
    ).rejects.toThrow('cannot start');
    expect(sent).toMatchObject([
      {
        type: 'run.completed',
        seq: 1,
        provider: 'broken',
        result: { status: 'failed', error: { code: 'INTERNAL_ERROR', message: 'cannot start' } },
      },
    ]);
    // The agent is not left marked busy.
    await expect(
      runs.start({ userId: 'u', agentId: 'a', agent: chatty(1), request: { prompt: 'go' } }),
    ).resolves.toBeDefined();
    await runs.close();
  });

  it('refuses webhooks when no dispatcher is configured', async () => {
    const runs = new RunManager();
    await expect(
      runs.start({
        userId: 'u',
        agentId: 'a',
        agent: chatty(1),
        request: { prompt: 'go' },
        webhook: { url: 'https://x' },
      }),
    ).rejects.toMatchObject({ code: 'WEBHOOKS_DISABLED' });
    await runs.close();
  });
});
