import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createCodeAgent } from './create-code-agent.js';
import { defaultCapabilities } from './agent.js';
import { ForgeError, NotFoundError, ProviderError, UnsupportedError, ValidationError } from './errors.js';
import { collectRun, runProblems } from './testing/collect.js';
import { delay } from './delay.js';
import type { RunFunction, RunOptions } from './run.js';

const agentOf = (run: RunFunction, options: RunOptions = {}) =>
  createCodeAgent({ provider: 'unit', declared: defaultCapabilities(), run, ...options });

describe('startRun through createCodeAgent', () => {
  it('fills the result from events when the run function returns little', async () => {
    let t = 1000;
    const agent = agentOf(
      async (ctx) => {
        ctx.emit({ type: 'session.started', sessionId: 's1' });
        ctx.emit({ type: 'message', text: 'first' });
        ctx.emit({
          type: 'usage',
          usage: { inputTokens: 3, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
        });
        ctx.emit({ type: 'message', text: 'final' });
        ctx.emit({
          type: 'usage',
          usage: { inputTokens: 2, outputTokens: 4, cacheReadTokens: 1, cacheWriteTokens: 0 },
        });
        t += 250;
        return {};
      },
      { clock: { now: () => t } },
    );
    const { events, result } = await collectRun(agent.execute({ prompt: 'hi' }));
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({
      status: 'completed',
      text: 'final',
      sessionId: 's1',
      durationMs: 250,
      usage: { inputTokens: 5, outputTokens: 5, cacheReadTokens: 1, cacheWriteTokens: 0 },
    });
  });

  it("takes the result's text from the agent's own messages, not a subagent's (parentToolCallId)", async () => {
    const agent = agentOf(async (ctx) => {
      ctx.emit({ type: 'message', text: 'main answer' });
      ctx.emit({ type: 'message', text: 'what the subagent said', parentToolCallId: 'call_task' });
      return {};
    });
    const { result } = await collectRun(agent.execute({ prompt: 'hi' }));
    expect(result.text).toBe('main answer');
  });

  it('turns a thrown error into one failed run.completed with its code', async () => {
    const agent = agentOf(async (ctx) => {
      ctx.emit({ type: 'log', text: 'starting' });
      throw new ProviderError('CLI_CRASHED', 'it died');
    });
    const { events, result } = await collectRun(agent.execute({ prompt: 'hi' }));
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({ code: 'CLI_CRASHED', message: 'it died', retryable: false });
  });

  it('does not start work before execute returns, and validates first', async () => {
    let started = false;
    const agent = agentOf(async () => {
      started = true;
      return {};
    });
    expect(() => agent.execute({ prompt: '' })).toThrow(ValidationError);
    const run = agent.execute({ prompt: 'x' });
    expect(started).toBe(false);
    await run.result;
    expect(started).toBe(true);
  });

  it('overrides what the provider says when the run was cancelled, keeping its session id and text', async () => {
    const agent = agentOf(async (ctx) => {
      ctx.emit({ type: 'session.started', sessionId: 'ses_9' });
      await new Promise((r) => ctx.signal.addEventListener('abort', r));
      return { status: 'failed', text: 'partial', error: { code: 'error_during_execution', message: 'interrupted' } };
    });
    const run = agent.execute({ prompt: 'x' });
    const it = run[Symbol.asyncIterator]();
    await it.next();
    const result = await run.cancel('user pressed stop');
    expect(result).toMatchObject({ status: 'cancelled', sessionId: 'ses_9', text: 'partial' });
    expect(result.error?.code).toBe('CANCELLED');
    expect(result.error?.message).toContain('user pressed stop');
  });

  it.each([
    ['a string', 'the user closed the tab', 'the user closed the tab'],
    ['an Error', new Error('deploy started'), 'deploy started'],
    ['a DOMException', new DOMException('page navigated', 'AbortError'), 'page navigated'],
  ])('keeps the reason given to AbortController.abort (%s) in the result', async (_, reason, expected) => {
    const agent = agentOf((ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => r({}))));
    const controller = new AbortController();
    const run = agent.execute({ prompt: 'x' }, { signal: controller.signal });
    await delay(1);
    controller.abort(reason);
    const result = await run.result;
    expect(result.status).toBe('cancelled');
    expect(result.error?.message).toContain(expected);
  });

  it('keeps the reason of a signal aborted before the run started', async () => {
    const agent = agentOf(async () => ({}));
    const result = await agent.execute({ prompt: 'x' }, { signal: AbortSignal.abort('too late') }).result;
    expect(result.error).toMatchObject({ code: 'CANCELLED' });
    expect(result.error?.message).toContain('too late');
  });

  it('bounds an event nested 6,000 deep where it is built: marked, serialisable, never dropped', async () => {
    let input: unknown = { command: 'ls' };
    for (let i = 0; i < 6_000; i++) input = { nested: [input] };
    const agent = agentOf(async (ctx) => {
      ctx.emit({ type: 'tool.call', callId: 'c1', name: 'Bash', input, raw: { type: 'assistant', input } });
      ctx.emit({ type: 'tool.result', callId: 'c1', output: input, isError: false });
      ctx.emit({ type: 'permission.requested', id: 'p1', tool: 'Bash', input });
      ctx.emit({ type: 'message', text: 'done' });
      return { raw: { result: input } };
    });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(result.status).toBe('completed');
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(runProblems(events)).toEqual([]);
    for (const event of events) {
      const text = JSON.stringify(event);
      if (event.type !== 'message') expect(text).toContain('{"$truncated":"depth>64"}');
    }
  });

  it('ends a run function that ignores the stop after the grace period', async () => {
    const agent = agentOf(() => new Promise(() => {}), { stopGraceMs: 50 });
    const run = agent.execute({ prompt: 'x', timeoutMs: 20 });
    const { events, result } = await collectRun(run);
    expect(result.status).toBe('timed_out');
    expect(runProblems(events)).toEqual([]);
  });

  it('ignores events emitted after the end', async () => {
    let late: (() => boolean) | undefined;
    const agent = agentOf(async (ctx) => {
      late = () => ctx.emit({ type: 'log', text: 'late' });
      return {};
    });
    const run = agent.execute({ prompt: 'x' });
    await run.result;
    expect(late!()).toBe(false);
    const { events } = await collectRun(run);
    expect(events.map((e) => e.type)).toEqual(['run.completed']);
  });

  it('refuses to let an adapter emit run.completed itself', async () => {
    const agent = agentOf(async (ctx) => {
      ctx.emit({ type: 'run.completed' } as never);
      return {};
    });
    const { result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('INVALID_EVENT');
  });

  it('applies backpressure to the producer while a reader lags, and loses nothing', async () => {
    let waits = 0;
    const agent = agentOf(
      async (ctx) => {
        for (let i = 0; i < 200; i++) {
          if (!ctx.emit({ type: 'text.delta', text: String(i) })) {
            waits++;
            await ctx.drained();
          }
        }
        return {};
      },
      { highWaterMark: 10 },
    );
    const run = agent.execute({ prompt: 'x' });
    const seen: string[] = [];
    for await (const e of run) {
      if (e.type === 'text.delta') seen.push(e.text);
      await delay(0);
    }
    expect(seen).toHaveLength(200);
    expect(seen[199]).toBe('199');
    expect(waits).toBeGreaterThan(0);
  });

  it('releases a producer waiting on a lagging reader once the run is cancelled, with no listener left behind', async () => {
    let released = false;
    let listenersAfter = -1;
    const agent = agentOf(
      async (ctx) => {
        while (ctx.emit({ type: 'text.delta', text: 'x' }));
        await ctx.drained(); // the reader never reads on: only the cancel can end this wait
        released = true;
        listenersAfter = getEventListeners(ctx.signal, 'abort').length;
        return {};
      },
      // Not ended by the grace period's own finish: the producer must be let go by the cancel itself.
      { highWaterMark: 5, stopGraceMs: 60_000 },
    );
    const run = agent.execute({ prompt: 'x' });
    const it = run[Symbol.asyncIterator]();
    await it.next();
    await delay(5);
    expect(released).toBe(false);
    await run.cancel();
    const result = await run.result;
    expect(released).toBe(true);
    expect(listenersAfter).toBe(0);
    expect(result.status).toBe('cancelled');
  });

  it('fails the run loudly, never dropping, when the buffer bound is exceeded', async () => {
    const agent = agentOf(
      async (ctx) => {
        for (let i = 0; i < 50; i++) ctx.emit({ type: 'text.delta', text: String(i) });
        return {};
      },
      { maxBufferedEvents: 20 },
    );
    const run = agent.execute({ prompt: 'x' });
    const result = await run.result;
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('EVENT_BUFFER_OVERFLOW');
    const { events } = await collectRun(run);
    expect(runProblems(events)).toEqual([]);
    expect(events).toHaveLength(21);
  });

  it('allows only one reader', async () => {
    const agent = agentOf(async () => ({}));
    const run = agent.execute({ prompt: 'x' });
    run[Symbol.asyncIterator]();
    expect(() => run[Symbol.asyncIterator]()).toThrow(ForgeError);
  });

  it('stops delivering to a reader that broke out, without cancelling the run', async () => {
    const agent = agentOf(async (ctx) => {
      for (let i = 0; i < 5; i++) {
        ctx.emit({ type: 'text.delta', text: String(i) });
        await delay(1);
      }
      return { text: 'done' };
    });
    const run = agent.execute({ prompt: 'x' });
    for await (const e of run) {
      if (e.type === 'text.delta') break;
    }
    expect((await run.result).status).toBe('completed');
  });

  it('routes respond() to the run, and says so when the provider cannot', async () => {
    const answers: string[] = [];
    const agent = agentOf(async (ctx) => {
      ctx.onRespond(async (id, decision) => {
        answers.push(`${id}:${decision}`);
      });
      ctx.emit({ type: 'permission.requested', id: 'per_1', tool: 'Bash', input: {} });
      await delay(20, ctx.signal);
      return {};
    });
    const run = agent.execute({ prompt: 'x' });
    await delay(1);
    await expect(run.respond('per_1', 'maybe' as never)).rejects.toBeInstanceOf(ValidationError);
    await run.respond('per_1', 'allow');
    await expect(run.respond('per_1', 'allow')).rejects.toMatchObject({ code: 'PERMISSION_NOT_FOUND' });
    await expect(run.respond('per_2', 'allow')).rejects.toBeInstanceOf(NotFoundError);
    await run.result;
    expect(answers).toEqual(['per_1:allow']);
    await expect(run.respond('per_1', 'deny')).rejects.toMatchObject({ code: 'RUN_FINISHED' });

    const plain = agentOf(async (ctx) => {
      await delay(20, ctx.signal);
      return {};
    }).execute({ prompt: 'x' });
    await expect(plain.respond('p', 'allow')).rejects.toBeInstanceOf(UnsupportedError);
    await expect(plain.answer('q', [['a']])).rejects.toBeInstanceOf(UnsupportedError);
  });

  it('takes answers before the reader has seen the request (recorded on emit, not on read)', async () => {
    const got: unknown[] = [];
    const agent = agentOf(async (ctx) => {
      ctx.onRespond(async (id, decision) => void got.push([id, decision]));
      ctx.onAnswer(async (id, answers) => void got.push([id, answers]));
      ctx.emit({ type: 'permission.requested', id: 'p1', tool: 'Write', input: { path: 'a' } });
      ctx.emit({
        type: 'question.requested',
        id: 'q1',
        questions: [{ question: 'Colour?', options: [{ label: 'Blue' }], multiple: false, custom: false }],
      });
      await delay(30, ctx.signal);
      return {};
    });
    const run = agent.execute({ prompt: 'x' });
    await delay(5);
    // Nothing has read the run yet.
    await run.respond('p1', 'deny', 'not there');
    await run.answer('q1', [['Blue']]);
    const { events } = await collectRun(run);
    expect(got).toEqual([
      ['p1', 'deny'],
      ['q1', [['Blue']]],
    ]);
    expect(runProblems(events)).toEqual([]);
  });

  it('checks answers against the questions asked', async () => {
    const agent = agentOf(async (ctx) => {
      ctx.onAnswer(async () => {});
      ctx.emit({
        type: 'question.requested',
        id: 'q1',
        questions: [
          { question: 'Colour?', options: [{ label: 'Blue' }, { label: 'Red' }], multiple: false, custom: false },
          { question: 'Name?', options: [], multiple: false, custom: true },
        ],
      });
      await delay(50, ctx.signal);
      return {};
    });
    const run = agent.execute({ prompt: 'x' });
    await delay(5);
    await expect(run.answer('q1', 'Blue' as never)).rejects.toMatchObject({ code: 'INVALID_ANSWER' });
    await expect(run.answer('q1', [['Blue']])).rejects.toMatchObject({
      code: 'INVALID_ANSWER',
      issues: [{ path: 'answers' }],
    });
    await expect(run.answer('q1', [['Green'], ['Ann']])).rejects.toMatchObject({
      code: 'INVALID_ANSWER',
      issues: [{ path: 'answers.0' }],
    });
    await expect(run.answer('q1', [['Blue', 'Red'], ['Ann']])).rejects.toMatchObject({ code: 'INVALID_ANSWER' });
    await expect(run.answer('q1', [['Red'], []])).rejects.toMatchObject({ issues: [{ path: 'answers.1' }] });
    await run.answer('q1', [['Red'], ['Ann']]);
    await expect(run.answer('q1', [['Red'], ['Ann']])).rejects.toMatchObject({ code: 'QUESTION_NOT_FOUND' });
    await run.cancel();
  });

  it('puts a request back when the provider could not take the answer, so it can be answered again', async () => {
    let fail = true;
    const agent = agentOf(async (ctx) => {
      ctx.onRespond(async () => {
        if (fail) throw new ProviderError('WRITE_FAILED', 'pipe closed');
      });
      ctx.emit({ type: 'permission.requested', id: 'p1', tool: 'Bash', input: {} });
      await delay(50, ctx.signal);
      return {};
    });
    const run = agent.execute({ prompt: 'x' });
    await delay(5);
    await expect(run.respond('p1', 'allow')).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    fail = false;
    await run.respond('p1', 'allow');
    await run.cancel();
  });

  it('refuses a run id that is already live', () => {
    const agent = agentOf((ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => r({}))));
    const run = agent.execute({ prompt: 'x' }, { runId: 'fixed' });
    expect(() => agent.execute({ prompt: 'x' }, { runId: 'fixed' })).toThrow(/already live/);
    void run.cancel();
  });
});
