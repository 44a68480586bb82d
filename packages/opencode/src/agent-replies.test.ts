import { collectRun, firstEvent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { questionAsked, textTurn } from './test-support/fake-opencode.js';
import { body, indexOf, mswOpencode, sound } from './test-support/msw-opencode.js';
import { project } from './test-support/project.js';

const { setup } = mswOpencode();

describe('opencode adapter on a fake server (msw): permissions and questions', () => {
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
});
