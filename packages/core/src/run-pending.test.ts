import { describe, expect, it } from 'vitest';
import { NotFoundError, UnsupportedError, ValidationError } from './errors.js';
import type { AgentEvent } from './events.js';
import { startRun } from './run.js';
import { validateRequest } from './request.js';
import { scriptedAgent } from './testing/scripted-agent.js';

const question = { question: 'Which?', options: [{ label: 'a' }, { label: 'b' }], multiple: false, custom: false };

function askingAgent() {
  return scriptedAgent({
    steps: [
      { type: 'permission.requested', id: 'p1', tool: 'Bash', input: { command: 'ls' } },
      { type: 'question.requested', id: 'q1', questions: [question] },
      { awaitPermission: 'p1' },
      { awaitQuestion: 'q1' },
    ],
  });
}

async function nextOfType(it: AsyncIterator<AgentEvent>, type: string): Promise<AgentEvent> {
  for (;;) {
    const next = await it.next();
    if (next.done) throw new Error(`no ${type}`);
    if (next.value.type === type) return next.value;
  }
}

describe('run.pending() and the resolved events', () => {
  it('lists what waits now, as the original events, and forgets each once answered', async () => {
    const run = askingAgent().execute({ prompt: 'x' });
    const events = run[Symbol.asyncIterator]();
    const asked = await nextOfType(events, 'question.requested');
    const waiting = run.pending();
    expect(waiting.map((e) => [e.type, e.id])).toEqual([
      ['permission.requested', 'p1'],
      ['question.requested', 'q1'],
    ]);
    expect(waiting[1]).toBe(asked);

    await run.respond('p1', 'allow');
    expect(run.pending().map((e) => e.id)).toEqual(['q1']);
    await run.answer('q1', [['a']]);
    expect(run.pending()).toEqual([]);

    const rest: AgentEvent[] = [];
    for (let n = await events.next(); !n.done; n = await events.next()) rest.push(n.value);
    expect(rest.find((e) => e.type === 'permission.resolved')).toMatchObject({
      id: 'p1',
      decision: 'allow',
      by: 'host',
    });
    expect(rest.find((e) => e.type === 'question.resolved')).toMatchObject({ id: 'q1', by: 'host' });
    expect((await run.result).status).toBe('completed');
  });

  it('emits no resolved event for an answer that fails, and keeps the request waiting', async () => {
    const run = startRun({
      runId: 'r1',
      provider: 'test',
      request: validateRequest({ prompt: 'x' }),
      run: async (ctx) => {
        ctx.onRespond(async () => {
          throw new Error('the provider is gone');
        });
        ctx.emit({ type: 'permission.requested', id: 'p1', tool: 'Bash', input: {} });
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return {};
      },
    });
    const events = run[Symbol.asyncIterator]();
    await nextOfType(events, 'permission.requested');
    await expect(run.respond('p1', 'deny')).rejects.toThrow('the provider is gone');
    expect(run.pending().map((e) => e.id)).toEqual(['p1']);
    await run.cancel();
    const rest: AgentEvent[] = [];
    for (let n = await events.next(); !n.done; n = await events.next()) rest.push(n.value);
    expect(rest.map((e) => e.type)).toEqual(['run.completed']);
    expect(run.pending()).toEqual([]);
  });

  it('still refuses an answered id with NotFoundError', async () => {
    const run = askingAgent().execute({ prompt: 'x' });
    await nextOfType(run[Symbol.asyncIterator](), 'permission.requested');
    await run.respond('p1', 'deny');
    await expect(run.respond('p1', 'deny')).rejects.toBeInstanceOf(NotFoundError);
    await run.cancel();
  });
});

describe('run.steer()', () => {
  it('is UnsupportedError where the adapter installs no steering', async () => {
    const run = scriptedAgent({ steps: [{ hang: true }] }).execute({ prompt: 'x' });
    await expect(run.steer('also do y')).rejects.toBeInstanceOf(UnsupportedError);
    await run.cancel();
  });

  it('reaches the adapter, and refuses blank text', async () => {
    const got: string[] = [];
    const run = startRun({
      runId: 'r2',
      provider: 'test',
      request: validateRequest({ prompt: 'x' }),
      run: async (ctx) => {
        ctx.onSteer(async (text) => {
          got.push(text);
        });
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return {};
      },
    });
    await Promise.resolve();
    await run.steer('also do y');
    await expect(run.steer('  ')).rejects.toBeInstanceOf(ValidationError);
    expect(got).toEqual(['also do y']);
    await run.cancel();
    await expect(run.steer('late')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
  });
});
