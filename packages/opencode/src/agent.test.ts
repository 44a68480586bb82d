import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { ValidationError, type AgentEvent } from '@forge/core';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { opencode, type OpencodeOptions } from './index.js';
import { FakeOpencode, questionAsked, textTurn, type FakeOpencodeOptions } from './test-support/fake-opencode.js';
import { project } from './test-support/project.js';
import { messagesAfter, recordedFrames, recordedSession, type Recording } from './test-support/recorded.js';

const msw = setupServer();
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
afterEach(() => msw.resetHandlers());
afterAll(() => msw.close());

const agents: Array<{ close?(): Promise<void> }> = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.close?.();
});

const noWait = async () => {};

function setup(fakeOptions: FakeOpencodeOptions = {}, agentOptions: Partial<OpencodeOptions> = {}) {
  const fake = new FakeOpencode(fakeOptions);
  msw.use(...fake.handlers());
  const agent = opencode({ baseUrl: fake.baseUrl, sleep: noWait, ...agentOptions });
  agents.push(agent);
  return { fake, agent };
}

/** The frames of a recording after its own `server.connected` (the fake sends one itself). */
function body(name: Recording): { sid: string; frames: string[] } {
  const frames = recordedFrames(name).filter((f) => !f.includes('"server.connected"'));
  return { sid: recordedSession(frames), frames };
}

const isType = (type: string) => (f: string) => (JSON.parse(f) as { type: string }).type === type;
const indexOf = (frames: string[], type: string, nth = 1) => {
  let seen = 0;
  return frames.findIndex((f) => isType(type)(f) && ++seen === nth);
};

function sound(events: AgentEvent[]) {
  expect(runProblems(events)).toEqual([]);
}

describe('opencode adapter on a fake server (msw)', () => {
  it('maps a text turn: deltas, the whole message, usage and cost, then completed', async () => {
    const { fake, agent } = setup({
      onPrompt: ({ sessionId, server }) => server.send(...textTurn(sessionId, 'Hello there world')),
    });
    const run = agent.execute({
      prompt: 'hi',
      model: 'fake/fake-model',
      systemPrompt: 'be brief',
      allowedTools: ['read'],
      disallowedTools: ['bash'],
    });
    const { events, result } = await collectRun(run);
    sound(events);
    expect(events.map((e) => e.type)).toEqual([
      'session.started',
      'text.delta',
      'text.delta',
      'text.delta',
      'message',
      'usage',
      'run.completed',
    ]);
    expect(result).toMatchObject({
      status: 'completed',
      text: 'Hello there world',
      sessionId: 'ses_fake_0',
      turns: 1,
      costUsd: 0.001,
    });
    expect(result.usage).toEqual({ inputTokens: 10, outputTokens: 3, cacheReadTokens: 1, cacheWriteTokens: 0 });
    const prompt = fake.calls.find((c) => c.path.endsWith('/prompt_async'))!;
    expect(prompt.body).toEqual({
      parts: [{ type: 'text', text: 'hi' }],
      model: { providerID: 'fake', modelID: 'fake-model' },
      system: 'be brief',
      tools: { '*': false, read: true, bash: false },
    });
    // Subscribed before the session existed and before the prompt went out.
    expect(fake.calls.map((c) => `${c.method} ${c.path}`).slice(0, 3)).toEqual([
      'GET /event',
      'POST /session',
      'POST /session/ses_fake_0/prompt_async',
    ]);
  });

  it('replays a recorded tool turn (tool-prompt-async.sse)', async () => {
    const { sid, frames } = body('tool-prompt-async');
    const { agent } = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...frames) });
    const { events, result } = await collectRun(agent.execute({ prompt: 'Please run `echo hi` in the shell.' }));
    sound(events);
    const p = project(events);
    expect(p.toolCalls).toEqual([
      { callId: expect.any(String), name: 'bash', input: { command: 'echo hi', description: 'Print hi' } },
    ]);
    expect(p.toolResults).toEqual([{ callId: p.toolCalls[0]!.callId, output: 'hi\n', isError: false }]);
    expect(events.findIndex((e) => e.type === 'tool.call')).toBeLessThan(
      events.findIndex((e) => e.type === 'tool.result'),
    );
    // Every streamed delta adds up to its part's final text, and nothing of the user's prompt leaks.
    expect(p.messages.length).toBeGreaterThanOrEqual(1);
    for (const text of p.messages) expect(Object.values(p.deltas)).toContain(text);
    expect(p.messages.join(' ')).not.toContain('Please run');
    expect(p.usage).toHaveLength(2);
    expect(result.status).toBe('completed');
    expect(result.turns).toBe(2);
    expect(result.text).toBe(p.messages[p.messages.length - 1]);
  });

  it('ignores events of other sessions interleaved on the same stream', async () => {
    const { sid, frames } = body('tool-prompt-async');
    const plain = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...frames) });
    const expected = project((await collectRun(plain.agent.execute({ prompt: 'x' }))).events);

    const other = 'ses_someoneelse000000000000';
    const mixed = frames.flatMap((f) => [f.replaceAll(sid, other), f]);
    const { agent } = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...mixed) });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    sound(events);
    expect(project(events)).toEqual(expected);
    expect(result.status).toBe('completed');
  });

  it('turns malformed event data into error events and keeps reading', async () => {
    const { agent } = setup({
      onPrompt: ({ sessionId, server }) => {
        server.sendRaw('data: {not json\n\n');
        server.sendRaw(
          `data: {"type":"message.part.updated","properties":{"sessionID":"${sessionId}","part":{"type":"text","bogus":true}}}\n\n`,
        );
        server.sendRaw(`data: {"id":"evt_x","type":"some.future.event","properties":{"sessionID":"${sessionId}"}}\n\n`);
        server.sendRaw(`data: ["${sessionId}"]\n\n`);
        server.send(...textTurn(sessionId, 'still fine'));
      },
    });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    sound(events);
    const errors = events.filter((e) => e.type === 'error');
    expect(errors.map((e) => e.type === 'error' && e.code)).toEqual([
      'OPENCODE_BAD_EVENT',
      'OPENCODE_BAD_EVENT',
      'OPENCODE_BAD_EVENT',
    ]);
    expect(result).toMatchObject({ status: 'completed', text: 'still fine' });
  });

  it('parses frames split across network chunks', async () => {
    const { agent } = setup({
      onPrompt: ({ sessionId, server }) => {
        const text = textTurn(sessionId, 'split me please')
          .map((f) => `data: ${JSON.stringify(f)}\n\n`)
          .join('');
        for (let i = 0; i < text.length; i += 7) server.sendRaw(text.slice(i, i + 7));
      },
    });
    const { result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(result).toMatchObject({ status: 'completed', text: 'split me please' });
  });

  it('reconnects after the stream is cut mid-run and reconciles: nothing lost, nothing repeated', async () => {
    const { sid, frames } = body('tool-prompt-async');
    const cutAt = indexOf(frames, 'message.part.delta', 3); // mid-text of the first step
    const resumeAt = indexOf(frames, 'message.part.updated', 9); // well after: the gap holds the tool call
    expect(cutAt).toBeGreaterThan(0);
    expect(resumeAt).toBeGreaterThan(cutAt);
    const { fake, agent } = setup({
      sessionIds: [sid],
      onPrompt: async ({ server }) => {
        server.send(...frames.slice(0, cutAt));
        server.cut();
        // While we were away the server moved on; its messages hold what the stream missed.
        server.messages.set(sid, messagesAfter(frames.slice(0, resumeAt), sid));
        server.statuses = { [sid]: { type: 'busy' } };
        await server.waitForStreams(1);
        // And it repeats a few frames the reconciliation already covered.
        server.send(...frames.slice(resumeAt - 4));
      },
    });
    const plain = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...frames) });
    const expected = project((await collectRun(plain.agent.execute({ prompt: 'x' }))).events);

    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    sound(events);
    expect(result.status).toBe('completed');
    expect(project(events)).toEqual(expected);
    expect(fake.calls.filter((c) => c.path === '/event')).toHaveLength(2);
    expect(fake.calls.some((c) => c.path === `/session/${sid}/message`)).toBe(true);
    expect(events.some((e) => e.type === 'log' && e.text.includes('reconnecting'))).toBe(true);
  });

  it('completes from the messages when the turn finished while the stream was down', async () => {
    const { sid, frames } = body('tool-prompt-async');
    const cutAt = indexOf(frames, 'message.part.delta', 2);
    const { agent } = setup({
      sessionIds: [sid],
      onPrompt: ({ server }) => {
        server.send(...frames.slice(0, cutAt));
        server.messages.set(sid, messagesAfter(frames, sid));
        server.statuses = {};
        server.cut();
      },
    });
    const plain = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...frames) });
    const expected = project((await collectRun(plain.agent.execute({ prompt: 'x' }))).events);
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    sound(events);
    expect(result.status).toBe('completed');
    expect(project(events)).toEqual(expected);
  });

  it('fails the run as a retryable transport error when the server stays away past the bound', async () => {
    let now = 0;
    const sleeps: number[] = [];
    const { fake, agent } = setup(
      {
        onPrompt: ({ sessionId, server }) => {
          server.send(textTurn(sessionId, 'a b c')[0]!);
          server.eventsDown = true;
          server.cut();
        },
      },
      {
        clock: { now: () => now },
        sleep: async (ms) => {
          sleeps.push(ms);
          now += ms;
        },
        reconnect: { initialDelayMs: 100, maxDelayMs: 1_000, giveUpAfterMs: 5_000 },
      },
    );
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    sound(events);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('OPENCODE_STREAM_LOST');
    const error = events.find((e) => e.type === 'error');
    expect(error?.type === 'error' && error.retryable).toBe(true);
    expect(sleeps.slice(0, 5)).toEqual([100, 200, 400, 800, 1_000]);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(5_000);
    expect(fake.calls.filter((c) => c.path === '/event').length).toBe(sleeps.length + 1);
  });

  it('detects a stream that goes silent (no heartbeat) and reconnects', async () => {
    const { fake, agent } = setup(
      {
        onPrompt: async ({ sessionId, server }) => {
          const turn = textTurn(sessionId, 'quiet then loud');
          server.send(...turn.slice(0, 3)); // then silence, the connection still open
          await server.waitForCall((c) => c.path === '/session/status');
          server.send(...turn.slice(3));
        },
      },
      { stallTimeoutMs: 30 },
    );
    fake.statuses = { ses_fake_0: { type: 'busy' } };
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    sound(events);
    expect(result).toMatchObject({ status: 'completed', text: 'quiet then loud' });
    expect(events.some((e) => e.type === 'log' && e.text.includes('stalled'))).toBe(true);
  });

  it('fails as retryable when the server went idle without an answer while the stream was down', async () => {
    const { agent } = setup({
      onPrompt: ({ server }) => {
        server.statuses = {};
        server.cut();
      },
    });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    sound(events);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('OPENCODE_TURN_LOST');
    expect(events.find((e) => e.type === 'error')).toMatchObject({ code: 'OPENCODE_TURN_LOST', retryable: true });
  });

  it('reports HTTP 500 with method, path, status and body', async () => {
    const { fake, agent } = setup();
    fake.failures.set('POST /session', {
      status: 500,
      body: { name: 'UnknownError', data: { message: 'database is locked' } },
    });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    sound(events);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('OPENCODE_HTTP_ERROR');
    expect(result.error?.message).toContain('POST /session answered 500');
    expect(result.error?.message).toContain('database is locked');
    const error = events.find((e) => e.type === 'error');
    expect(error).toMatchObject({
      code: 'OPENCODE_HTTP_ERROR',
      retryable: true,
      details: { method: 'POST', path: '/session', status: 500 },
    });
  });

  it('reports a session that does not exist (404) as not found', async () => {
    const { fake, agent } = setup();
    const { result } = await collectRun(agent.execute({ prompt: 'x', sessionId: 'ses_doesnotexist' }));
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('OPENCODE_NOT_FOUND');
    expect(result.error?.message).toMatch(/GET \/session\/ses_doesnotexist\/message answered 404: .*Session not found/);
    expect(fake.calls.some((c) => c.path.endsWith('/prompt_async'))).toBe(false);
  });

  it('reports a server that is down as a retryable transport error', async () => {
    const agent = opencode({
      baseUrl: 'http://127.0.0.1:9',
      fetch: () =>
        Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
          }),
        ),
    });
    agents.push(agent);
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    sound(events);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('OPENCODE_UNREACHABLE');
    expect(result.error?.message).toContain('GET /event');
    expect(result.error?.message).toContain('ECONNREFUSED');
    expect(events.find((e) => e.type === 'error')).toMatchObject({ retryable: true });
  });

  it('gives up on an event stream whose headers never come (a half-started server)', async () => {
    const hanging = (_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
      );
    const agent = opencode({ baseUrl: 'http://127.0.0.1:9', fetch: hanging, requestTimeoutMs: 50 });
    agents.push(agent);
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    sound(events);
    expect(result.error?.code).toBe('OPENCODE_UNREACHABLE');
    expect(result.error?.message).toContain('no answer within 50 ms');
  });

  it('answers permission requests: allow → once, then on the same session deny → reject, and the turn goes on (permission.sse)', async () => {
    const { sid, frames } = body('permission');
    const ask1 = indexOf(frames, 'permission.asked', 1);
    const idle1 = indexOf(frames, 'session.idle', 1);
    const ask2 = indexOf(frames, 'permission.asked', 2);
    const { fake, agent } = setup(
      {
        sessionIds: [sid],
        onPrompt: async ({ server, index }) => {
          const [from, ask, to] = index === 0 ? [0, ask1, idle1 + 1] : [idle1 + 1, ask2, frames.length];
          server.send(...frames.slice(from, ask + 1));
          await server.waitForCall(
            (c) =>
              c.path.startsWith('/permission/') && c.path.includes(index === 0 ? 'per_20d7ce6fd' : 'per_20d7ce7ec'),
          );
          server.send(...frames.slice(ask + 1, to));
        },
      },
      { permission: [{ permission: 'bash', pattern: '*', action: 'ask' }] },
    );

    const first = agent.execute({ prompt: 'Run echo hi (needs permission).' });
    const asked = firstEvent(first, (e) => e.type === 'permission.requested');
    const request = await asked.event;
    expect(request).toMatchObject({
      type: 'permission.requested',
      id: 'per_20d7ce6fd001hgIACTVbOJ4fU5',
      tool: 'bash',
      input: { command: 'echo hi' },
    });
    await first.respond('per_20d7ce6fd001hgIACTVbOJ4fU5', 'allow');
    const events1 = await asked.all;
    sound(events1);
    expect((await first.result).status).toBe('completed');
    expect(project(events1).toolResults).toEqual([{ callId: 'call_fake_18_0', output: 'hi\n', isError: false }]);
    expect(fake.calls.find((c) => c.method === 'POST' && c.path === '/session')!.body).toEqual({
      permission: [{ permission: 'bash', pattern: '*', action: 'ask' }],
    });

    const second = agent.execute({ prompt: 'Run echo hi again (will be rejected).', sessionId: sid });
    const asked2 = firstEvent(second, (e) => e.type === 'permission.requested');
    await asked2.event;
    await second.respond('per_20d7ce7ec0015sDNogRPwdT1ye', 'deny', 'not allowed in test');
    const events2 = await asked2.all;
    sound(events2);
    const result2 = await second.result;
    expect(result2.status).toBe('completed');
    expect(result2.sessionId).toBe(sid);
    const p2 = project(events2);
    expect(p2.toolResults).toEqual([
      { callId: 'call_fake_20_0', output: expect.stringContaining('rejected permission'), isError: true },
    ]);
    expect(p2.messages[p2.messages.length - 1]).toContain('not allowed in test');
    // The first turn's messages are not replayed into the second run.
    expect(p2.toolCalls.map((t) => t.callId)).toEqual(['call_fake_20_0']);

    const replies = fake.calls.filter((c) => c.path.startsWith('/permission/'));
    expect(replies.map((c) => c.body)).toEqual([
      { reply: 'once' },
      { reply: 'reject', message: 'not allowed in test' },
    ]);
  });

  it('asks a question and answers it through POST /question/:id/reply; the turn goes on (question.sse)', async () => {
    const { sid, frames } = body('question');
    const ask = indexOf(frames, 'question.asked');
    const qid = (JSON.parse(frames[ask]!) as { properties: { id: string } }).properties.id;
    const { fake, agent } = setup({
      sessionIds: [sid],
      onPrompt: async ({ server }) => {
        server.send(...frames.slice(0, ask + 1));
        await server.waitForCall((c) => c.path === `/question/${qid}/reply`);
        server.send(...frames.slice(ask + 1));
      },
    });
    const run = agent.execute({ prompt: 'ask me' });
    const reading = firstEvent(run, (e) => e.type === 'question.requested');
    const asked = await reading.event;
    expect(asked).toMatchObject({
      type: 'question.requested',
      id: qid,
      questions: [
        {
          question: 'Which colour?',
          header: 'Colour',
          options: [
            { label: 'Blue', description: 'like the sky' },
            { label: 'Red', description: 'like fire' },
          ],
          multiple: false,
          custom: true,
        },
        { question: 'Which sizes?', header: 'Size', multiple: true, custom: true },
      ],
    });
    expect((asked.raw as { type: string }).type).toBe('question.asked');
    await run.answer(qid, [['Blue'], ['S', 'L']]);
    const events = await reading.all;
    sound(events);
    const result = await run.result;
    expect(result.status).toBe('completed');
    expect(result.text).toContain('User has answered your questions');
    expect(fake.calls.find((c) => c.path === `/question/${qid}/reply`)!.body).toEqual({
      answers: [['Blue'], ['S', 'L']],
    });
    expect(events.filter((e) => e.type === 'question.requested')).toHaveLength(1);
    // An answered question is not rejected at the end.
    expect(fake.calls.some((c) => c.path.endsWith('/reject'))).toBe(false);
  });

  it('a question rejected on the server ends its tool with an error and the turn completes (question-reject.sse)', async () => {
    const { sid, frames } = body('question-reject');
    const { agent } = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...frames) });
    const { events, result } = await collectRun(agent.execute({ prompt: 'ask me' }));
    sound(events);
    expect(result.status).toBe('completed');
    expect(project(events).toolResults).toEqual([
      { callId: 'call_fake_2_0', output: 'The user dismissed this question', isError: true },
    ]);
  });

  it('cancel while a question waits rejects it on the server, then aborts the session', async () => {
    const { fake, agent } = setup({
      onPrompt: ({ sessionId, server }) => server.send(textTurn(sessionId, 'x')[0]!, questionAsked(sessionId, 'que_1')),
    });
    const run = agent.execute({ prompt: 'x' });
    const reading = firstEvent(run, (e) => e.type === 'question.requested');
    await reading.event;
    const result = await run.cancel('no answer');
    sound(await reading.all);
    expect(result).toMatchObject({ status: 'cancelled', sessionId: 'ses_fake_0' });
    const posts = fake.calls.filter((c) => c.method === 'POST' && !c.path.endsWith('/prompt_async')).map((c) => c.path);
    expect(posts).toEqual(['/session', '/question/que_1/reject', '/session/ses_fake_0/abort']);
  });

  it('reports a failed question reply as a typed error and keeps the question answerable', async () => {
    const { fake, agent } = setup({
      onPrompt: ({ sessionId, server }) => server.send(textTurn(sessionId, 'x')[0]!, questionAsked(sessionId, 'que_2')),
    });
    fake.failures.set('POST /question/que_2/reply', {
      status: 400,
      body: { name: 'BadRequest', data: { message: 'bad answers' } },
    });
    const run = agent.execute({ prompt: 'x' });
    const reading = firstEvent(run, (e) => e.type === 'question.requested');
    await reading.event;
    await expect(run.answer('que_2', [['Blue']])).rejects.toMatchObject({
      message: expect.stringContaining('POST /question/que_2/reply answered 400'),
    });
    fake.failures.delete('POST /question/que_2/reply');
    await run.answer('que_2', [['Red']]);
    expect(fake.calls.filter((c) => c.path === '/question/que_2/reply').map((c) => c.body)).toEqual([
      { answers: [['Blue']] },
      { answers: [['Red']] },
    ]);
    await run.cancel();
    await reading.all;
  });

  it('maps allow_always to "always" and reports a failed reply as a typed error', async () => {
    const asked = (sessionID: string, id: string) => ({
      type: 'permission.asked',
      properties: { id, sessionID, permission: 'bash', patterns: ['ls'], metadata: {}, always: [] },
    });
    const { fake, agent } = setup({
      onPrompt: ({ sessionId, server }) =>
        server.send(textTurn(sessionId, 'x')[0]!, asked(sessionId, 'per_1'), asked(sessionId, 'per_2')),
    });
    const run = agent.execute({ prompt: 'x' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested' && e.id === 'per_2');
    await reading.event;
    await run.respond('per_1', 'allow_always');
    expect(fake.calls.find((c) => c.path === '/permission/per_1/reply')!.body).toEqual({ reply: 'always' });
    fake.failures.set('POST /permission/per_2/reply', {
      status: 404,
      body: { name: 'NotFoundError', data: { message: 'no such request' } },
    });
    await expect(run.respond('per_2', 'deny')).rejects.toMatchObject({
      code: 'OPENCODE_NOT_FOUND',
      message: expect.stringContaining('POST /permission/per_2/reply answered 404'),
    });
    await run.cancel();
    await reading.all;
  });

  it('aborts the session on cancel and ends once as cancelled, ignoring the extra idle (abort-streaming.sse)', async () => {
    const { sid, frames } = body('abort-streaming');
    const third = indexOf(frames, 'message.part.delta', 3);
    const { fake, agent } = setup({
      sessionIds: [sid],
      onPrompt: async ({ server }) => {
        server.send(...frames.slice(0, third + 1));
        await server.waitForCall((c) => c.path.endsWith('/abort'));
        server.send(...frames.slice(third + 1));
      },
    });
    const run = agent.execute({ prompt: 'Talk slowly.' });
    const reading = firstEvent(run, (e) => e.type === 'text.delta' && e.text === 'tok2 ');
    await reading.event;
    const result = await run.cancel('user pressed stop');
    const events = await reading.all;
    sound(events);
    expect(result.status).toBe('cancelled');
    expect(result.sessionId).toBe(sid);
    expect(Object.values(project(events).deltas)).toEqual(['tok0 tok1 tok2 ']);
    expect(fake.calls.filter((c) => c.path === `/session/${sid}/abort`)).toHaveLength(1);
  });

  it('aborts the session when the run times out', async () => {
    const { fake, agent } = setup({
      onPrompt: ({ sessionId, server }) => server.send(...textTurn(sessionId, 'never ending').slice(0, 4)),
    });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x', timeoutMs: 200 }));
    sound(events);
    expect(result.status).toBe('timed_out');
    expect(fake.calls.filter((c) => c.path === '/session/ses_fake_0/abort')).toHaveLength(1);
  });

  it('fails with the server error of a model 400 (error-400.sse)', async () => {
    const { sid, frames } = body('error-400');
    const { agent } = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...frames) });
    const { events, result } = await collectRun(agent.execute({ prompt: 'Fail please.' }));
    sound(events);
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({
      code: 'OPENCODE_API_ERROR',
      message: 'APIError: fake-llm: injected bad request',
      retryable: false,
    });
    expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
  });

  it('ignores a stray idle of an earlier turn when continuing a session', async () => {
    const { fake, agent } = setup({
      sessionIds: ['ses_fake_0'],
      onPrompt: ({ sessionId, server }) => {
        server.send({ type: 'session.idle', properties: { sessionID: sessionId } });
        server.send(...textTurn(sessionId, 'the real answer', 2));
      },
    });
    fake.messages.set('ses_fake_0', []);
    const { result } = await collectRun(agent.execute({ prompt: 'x', sessionId: 'ses_fake_0' }));
    expect(result).toMatchObject({ status: 'completed', text: 'the real answer', sessionId: 'ses_fake_0' });
  });

  it('refuses ambiguous options and unsupported request fields with typed errors', async () => {
    expect(() => opencode({})).toThrow(/exactly one of baseUrl/);
    expect(() => opencode({ baseUrl: 'localhost:4096' })).toThrow(/http\(s\) URL/);
    const { agent } = setup();
    const { result } = await collectRun(agent.execute({ prompt: 'x', model: 'no-slash' }));
    expect(result.error?.code).toBe('UNSUPPORTED');
  });

  it('reports capabilities with the server version and models', async () => {
    const { agent } = setup();
    const caps = await agent.capabilities();
    expect(caps).toMatchObject({
      resume: true,
      cancel: true,
      permissionReplies: true,
      questions: true,
      textDeltas: true,
      version: '1.18.33',
      models: ['fake/fake-model'],
      available: true,
    });
  });

  it('reports itself unavailable, with the reason, when its server cannot be reached', async () => {
    msw.use(http.all('http://127.0.0.1:1/*', () => HttpResponse.error()));
    const agent = opencode({ baseUrl: 'http://127.0.0.1:1', sleep: noWait, requestTimeoutMs: 2_000 });
    agents.push(agent);
    const caps = await agent.capabilities();
    expect(caps.available).toBe(false);
    expect(caps.unavailableReason).toMatch(/\S/);
    expect(caps.permissionReplies).toBe(true);
  });
});

describe('opencode() options', () => {
  it.each([
    ['no argument', undefined],
    ['null', null],
    ['a string', 'http://127.0.0.1:4096'],
  ])('%s is a typed ValidationError, not a TypeError', (_, options) => {
    let caught: unknown;
    try {
      opencode(options as unknown as OpencodeOptions);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect(caught).toMatchObject({ code: 'INVALID_OPTIONS' });
    expect((caught as Error).message).toMatch(/baseUrl|server/);
  });
});
