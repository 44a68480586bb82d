import type { PermissionDecision } from './agent.js';
import type { AgentEvent } from './events.js';
import { systemClock } from './clock.js';
import { collectRun, runProblems } from './testing/collect.js';
import { describe, expect, it } from 'vitest';
import { RelayedRun, type RunLink } from './relayed-run.js';

function fakeLink() {
  const calls: Array<[string, ...unknown[]]> = [];
  const link: RunLink = {
    cancel: (runId, reason) => void calls.push(['cancel', runId, reason]),
    respond: async (runId: string, id: string, d: PermissionDecision) => void calls.push(['respond', runId, id, d]),
  };
  return { link, calls };
}

function answeringLink() {
  const calls: Array<[string, ...unknown[]]> = [];
  const link: RunLink = {
    cancel: () => {},
    respond: async () => {},
    answer: async (runId, id, answers) => void calls.push(['answer', runId, id, answers]),
  };
  return { link, calls };
}

const make = (link: RunLink, extra: Partial<ConstructorParameters<typeof RelayedRun>[0]> = {}) =>
  new RelayedRun({
    runId: 'r1',
    provider: 'pod',
    clock: systemClock,
    link,
    stopGraceMs: 30,
    highWaterMark: 100,
    onEnd: () => {},
    ...extra,
  });

const ev = (seq: number, body: Record<string, unknown> = { type: 'text.delta', text: `t${seq}` }): AgentEvent =>
  ({ runId: 'r1', seq, time: 1, provider: 'remote-name', ...body }) as AgentEvent;

describe('RelayedRun', () => {
  it('taken over after seq 3 (afterSeq): goes on from 4, knows the waiting permission, ends after the last seq', async () => {
    const { link, calls } = fakeLink();
    const asked = ev(2, { type: 'permission.requested', id: 'p', tool: 'Bash', input: {} });
    const run = make(link, { afterSeq: 3, pending: [asked] });
    expect(run.deliver(ev(4))).toBe(true);
    await run.respond('p', 'allow');
    expect(calls).toEqual([['respond', 'r1', 'p', 'allow']]);
    run.endLocally({ status: 'failed', code: 'TRANSPORT_BROKEN', message: 'gone' });
    const events = (await collectRun(run)).events;
    expect(events.map((e) => e.seq)).toEqual([4, 5]);
    expect(events.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'failed' } });
  });

  it('taken over after seq 3: an event that is not 4 is a gap, never handed out', async () => {
    const { link } = fakeLink();
    const run = make(link, { afterSeq: 3 });
    run.deliver(ev(1));
    const events = (await collectRun(run)).events;
    expect(events.map((e) => e.type)).toEqual(['error', 'run.completed']);
    expect(events.map((e) => e.seq)).toEqual([4, 5]);
  });

  it('relays answers to questions it has seen, over links that carry them', async () => {
    const { link, calls } = answeringLink();
    const run = make(link);
    run.deliver(
      ev(1, {
        type: 'question.requested',
        id: 'q',
        questions: [{ question: 'Colour?', options: [{ label: 'Blue' }], multiple: false, custom: false }],
      }),
    );
    await expect(run.answer('nope', [['Blue']])).rejects.toMatchObject({ code: 'QUESTION_NOT_FOUND' });
    await expect(run.answer('q', [['Green']])).rejects.toMatchObject({ code: 'INVALID_ANSWER' });
    await run.answer('q', [['Blue']]);
    expect(calls).toEqual([['answer', 'r1', 'q', [['Blue']]]]);
  });

  it('relays a steering message over links that carry one, refuses it over others and after the end', async () => {
    const calls: unknown[] = [];
    const run = make({ cancel: () => {}, respond: async () => {}, steer: async (...args) => void calls.push(args) });
    await run.steer('also add a test');
    expect(calls).toEqual([['r1', 'also add a test']]);
    await expect(run.steer('  ')).rejects.toMatchObject({ code: 'INVALID_STEERING' });
    const old = make(fakeLink().link, { runId: 'r2' });
    await expect(old.steer('x')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    old.endLocally({ status: 'cancelled', code: 'CANCELLED', message: 'gone' });
    await expect(old.steer('x')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
  });

  it('forgets a request the other side resolved itself (a rule, a deadline): pending() drops it, an answer is NotFound', async () => {
    const { link, calls } = answeringLink();
    const run = make(link);
    const questions = [{ question: 'Colour?', options: [{ label: 'Blue' }], multiple: false, custom: false }];
    run.deliver(ev(1, { type: 'permission.requested', id: 'p', tool: 'Bash', input: {} }));
    run.deliver(ev(2, { type: 'question.requested', id: 'q', questions }));
    run.deliver(ev(3, { type: 'permission.requested', id: 'p2', tool: 'Bash', input: {} }));
    expect(run.pending().map((e) => e.id)).toEqual(['p', 'q', 'p2']);
    run.deliver(ev(4, { type: 'permission.resolved', id: 'p', decision: 'deny', by: 'unanswered' }));
    run.deliver(ev(5, { type: 'question.resolved', id: 'q', by: 'unanswered' }));
    expect(run.pending().map((e) => e.id)).toEqual(['p2']);
    await expect(run.respond('p', 'allow')).rejects.toMatchObject({ code: 'PERMISSION_NOT_FOUND' });
    await expect(run.answer('q', [['Blue']])).rejects.toMatchObject({ code: 'QUESTION_NOT_FOUND' });
    expect(calls).toEqual([]);
  });

  it('does not put back a request the other side resolved while this side’s answer was in flight', async () => {
    let fail!: (e: Error) => void;
    const run = make({
      cancel: () => {},
      respond: () => new Promise<void>((_resolve, reject) => (fail = reject)),
    });
    run.deliver(ev(1, { type: 'permission.requested', id: 'p', tool: 'Bash', input: {} }));
    const replying = run.respond('p', 'allow');
    run.deliver(ev(2, { type: 'permission.resolved', id: 'p', decision: 'deny', by: 'unanswered' }));
    fail(new Error('no such request over there'));
    await expect(replying).rejects.toThrow('no such request');
    expect(run.pending()).toEqual([]);
  });

  it('a run ended on this side (the link broke) still reports the files the far run changed so far', async () => {
    const run = make(fakeLink().link);
    run.deliver(ev(1, { type: 'file.changed', path: 'a.ts', change: 'added' }));
    run.deliver(ev(2, { type: 'file.changed', path: 'b.ts', change: 'renamed', oldPath: 'old-b.ts' }));
    run.deliver(ev(3, { type: 'file.changed', path: 'a.ts', change: 'modified', diff: '@@' }));
    run.endLocally({ status: 'failed', code: 'TRANSPORT_BROKEN', message: 'gone', errorEvent: { retryable: true } });
    expect((await run.result).filesChanged).toEqual([
      { path: 'b.ts', change: 'renamed', oldPath: 'old-b.ts' },
      { path: 'a.ts', change: 'modified' },
    ]);
    const quiet = make(fakeLink().link, { runId: 'r2' });
    quiet.endLocally({ status: 'cancelled', code: 'CANCELLED', message: 'stop' });
    expect((await quiet.result).filesChanged).toBeUndefined();
  });

  it('hands events through under its own provider name and ends with the remote run.completed', async () => {
    const { link } = fakeLink();
    const run = make(link);
    run.deliver(ev(1));
    const result = {
      status: 'completed' as const,
      text: 'x',
      usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      durationMs: 5,
      turns: 1,
    };
    run.deliver(ev(2, { type: 'run.completed', result }));
    run.deliver(ev(3)); // after the end: ignored
    const { events, result: r } = await collectRun(run);
    expect(runProblems(events, 'r1')).toEqual([]);
    expect(events.map((e) => e.provider)).toEqual(['pod', 'pod']);
    expect(r).toEqual(result);
  });

  it('ends the run as TRANSPORT_BROKEN rather than hand out a seq gap', async () => {
    const { link, calls } = fakeLink();
    const run = make(link);
    run.deliver(ev(1));
    run.deliver(ev(3));
    const { events, result } = await collectRun(run);
    expect(runProblems(events, 'r1')).toEqual([]);
    expect(result.error?.code).toBe('TRANSPORT_BROKEN');
    // The other side's run goes on otherwise.
    expect(calls).toEqual([['cancel', 'r1', 'events were lost in transit']]);
  });

  it('keeps the sender’s provider with keepProvider, and its own on events it makes', async () => {
    const { link } = fakeLink();
    const run = make(link, { keepProvider: true });
    run.deliver(ev(1));
    run.endLocally({
      status: 'failed',
      code: 'TRANSPORT_BROKEN',
      message: 'link down',
      errorEvent: { retryable: true },
    });
    const { events, result } = await collectRun(run);
    expect(events.map((e) => e.provider)).toEqual(['remote-name', 'pod', 'pod']);
    expect(result.error).toEqual({ code: 'TRANSPORT_BROKEN', message: 'link down', retryable: true });
  });

  it('with maxBufferedEvents, fails an unread run with EVENT_BUFFER_OVERFLOW and cancels the other side, without a seq gap', async () => {
    const { link, calls } = fakeLink();
    const run = make(link, { highWaterMark: undefined, maxBufferedEvents: 3 });
    for (let seq = 1; seq <= 5; seq++) expect(run.deliver(ev(seq))).toBe(true);
    const { events, result } = await collectRun(run);
    expect(runProblems(events, 'r1')).toEqual([]);
    expect(result.error?.code).toBe('EVENT_BUFFER_OVERFLOW');
    expect(calls).toEqual([['cancel', 'r1', 'the reader fell too far behind']]);
  });

  it('asks the reader to pause above highWaterMark', async () => {
    const { link } = fakeLink();
    const run = make(link, { highWaterMark: 2 });
    expect(run.deliver(ev(1))).toBe(true);
    expect(run.deliver(ev(2))).toBe(false);
    const drained = run.drained();
    const it = run[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    await drained;
  });

  it('sends one cancel, and ends the run itself when the remote never confirms', async () => {
    const { link, calls } = fakeLink();
    const run = make(link);
    run.deliver(ev(1, { type: 'session.started', sessionId: 'ses_9' }));
    const [a, b] = await Promise.all([run.cancel('enough'), run.cancel()]);
    expect(a).toEqual(b);
    expect(calls).toEqual([['cancel', 'r1', 'enough']]);
    expect(a).toMatchObject({ status: 'cancelled', sessionId: 'ses_9', error: { code: 'CANCELLED' } });
    expect(a.error?.message).toMatch(/did not confirm/);
    const { events } = await collectRun(run);
    expect(runProblems(events, 'r1')).toEqual([]);
  });

  it('backs up the remote timeout: timed_out after timeoutMs + stopGraceMs, then cancels the remote run', async () => {
    const { link, calls } = fakeLink();
    const run = make(link, { timeoutMs: 20 });
    const result = await run.result;
    expect(result.status).toBe('timed_out');
    expect(calls).toEqual([['cancel', 'r1', 'timed out']]);
  });

  it('never starts a run whose signal is already aborted, and follows a later abort', async () => {
    const { link, calls } = fakeLink();
    const early = make(link, { signal: AbortSignal.abort() });
    expect((await early.result).status).toBe('cancelled');
    expect(calls).toEqual([]);
    const controller = new AbortController();
    const late = make(link, { runId: 'r2', signal: controller.signal });
    controller.abort();
    expect(calls).toEqual([['cancel', 'r2', 'the caller aborted the signal']]);
    expect((await late.result).status).toBe('cancelled');
  });

  it('validates a decision before sending it and refuses replies after the end', async () => {
    const { link, calls } = fakeLink();
    const run = make(link);
    await expect(run.respond('p', 'maybe' as PermissionDecision)).rejects.toMatchObject({ code: 'INVALID_DECISION' });
    await expect(run.respond('p', 'deny')).rejects.toMatchObject({ code: 'PERMISSION_NOT_FOUND' });
    run.deliver(ev(1, { type: 'permission.requested', id: 'p', tool: 'Bash', input: {} }));
    await run.respond('p', 'deny');
    expect(calls).toEqual([['respond', 'r1', 'p', 'deny']]);
    run.deliver(ev(2, { type: 'question.requested', id: 'q', questions: [] }));
    await expect(run.answer('q', [])).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    run.endLocally({ status: 'failed', code: 'X', message: 'y' });
    await expect(run.respond('p', 'allow')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
  });
});
