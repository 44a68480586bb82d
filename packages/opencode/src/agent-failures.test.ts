import { collectRun, firstEvent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { opencode } from './index.js';
import { textTurn } from './test-support/fake-opencode.js';
import { body, indexOf, mswOpencode, sound } from './test-support/msw-opencode.js';
import { project } from './test-support/project.js';

const { setup, agents } = mswOpencode();

describe('opencode adapter on a fake server (msw): failures, cancel and timeout', () => {
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
    // The adapter aborts a session only once its prompt is sent: the deadline must come after that, which 200 ms
    // did not on a loaded machine (the session was created, the prompt not yet sent, and nothing to abort).
    const { events, result } = await collectRun(agent.execute({ prompt: 'x', timeoutMs: 2_000 }));
    sound(events);
    expect(result.status).toBe('timed_out');
    expect(fake.calls.filter((c) => c.path === '/session/ses_fake_0/prompt_async')).toHaveLength(1);
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
});
