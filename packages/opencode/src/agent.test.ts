import { collectRun } from '@forge/core/testing';
import { ValidationError } from '@forge/core';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { opencode, type OpencodeOptions } from './index.js';
import { textTurn } from './test-support/fake-opencode.js';
import { body, indexOf, mswOpencode, sound } from './test-support/msw-opencode.js';
import { project } from './test-support/project.js';
import { messagesAfter } from './test-support/recorded.js';

const { msw, setup, agents, noWait } = mswOpencode();

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
      models: ['fake/fake-model', 'fake/fake-plain'],
      available: true,
      structuredOutput: 'native',
      fork: true,
      mcpServers: false,
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
