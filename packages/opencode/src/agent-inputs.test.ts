import { UnsupportedFieldError } from '@forge/core';
import { collectRun } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { textTurn } from './test-support/fake-opencode.js';
import { body, mswOpencode, sound } from './test-support/msw-opencode.js';

const { setup } = mswOpencode();

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const SCHEMA = {
  type: 'object',
  properties: { verdict: { type: 'string' }, comments: { type: 'array', items: { type: 'string' } } },
  required: ['verdict'],
};

const text = (server: { send(...f: object[]): void }, sessionId: string) => server.send(...textTurn(sessionId, 'done'));
const prompts = (fake: { calls: Array<{ method: string; path: string; body: unknown }> }) =>
  fake.calls.filter((c) => c.path.endsWith('/prompt_async'));

describe('opencode adapter on a fake server (msw): what a request can ask', () => {
  it('sends outputSchema as format json_schema and puts the structured answer in result.output (structured-output.sse)', async () => {
    const { sid, frames } = body('structured-output');
    const { fake, agent } = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...frames) });
    const run = agent.execute({ prompt: 'review please', outputSchema: SCHEMA });
    const { events, result } = await collectRun(run);
    sound(events);
    expect(prompts(fake)[0]!.body).toMatchObject({ format: { type: 'json_schema', schema: SCHEMA } });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ verdict: 'ok', comments: ['a'] });
  });

  it('ends a structured run from the stream alone when the server cannot list the session (400, OpenCode 1.18.33)', async () => {
    const { sid, frames } = body('structured-output');
    const { fake, agent } = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...frames) });
    const broken = { name: 'BadRequest', data: { message: 'Expected OutputFormatJsonSchema' } };
    fake.failures.set(`GET /session/${sid}/message`, { status: 400, body: broken });
    const { events, result } = await collectRun(agent.execute({ prompt: 'review please', outputSchema: SCHEMA }));
    sound(events);
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ verdict: 'ok', comments: ['a'] });
    expect(events.filter((e) => e.type === 'log' && e.level !== 'debug')).toEqual([]);
  });

  it('leaves result.output unset without an outputSchema, even when the message has a structured answer', async () => {
    const { sid, frames } = body('structured-output');
    const { agent } = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...frames) });
    const { result } = await collectRun(agent.execute({ prompt: 'review please' }));
    expect(result.output).toBeUndefined();
  });

  it('sends attachments as file parts: inline data as a data: URL, a path as a file:// URL under the cwd', async () => {
    const { fake, agent } = setup({ onPrompt: ({ server, sessionId }) => text(server, sessionId) });
    const run = agent.execute({
      prompt: 'look',
      cwd: '/work/project',
      attachments: [
        { kind: 'image', data: PNG, mimeType: 'image/png', name: 'dot.png' },
        { kind: 'file', path: 'notes/todo.md' },
        { kind: 'image', path: '/shots/screen.jpg' },
      ],
    });
    const { events, result } = await collectRun(run);
    sound(events);
    expect(result.status).toBe('completed');
    expect(prompts(fake)[0]!.body).toMatchObject({
      parts: [
        { type: 'text', text: 'look' },
        { type: 'file', mime: 'image/png', url: `data:image/png;base64,${PNG}`, filename: 'dot.png' },
        { type: 'file', mime: 'text/markdown', url: 'file:///work/project/notes/todo.md', filename: 'todo.md' },
        { type: 'file', mime: 'image/jpeg', url: 'file:///shots/screen.jpg', filename: 'screen.jpg' },
      ],
    });
  });

  it('fails an image without a mimeType or known extension with INVALID_ATTACHMENT, before any session', async () => {
    const { fake, agent } = setup();
    const result = await agent.execute({ prompt: 'look', attachments: [{ kind: 'image', data: PNG }] }).result;
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('INVALID_ATTACHMENT');
    expect(fake.calls.filter((c) => c.path === '/session')).toEqual([]);
  });

  it('sends effort as the prompt variant when the model has a variant of that name', async () => {
    const { fake, agent } = setup({ onPrompt: ({ server, sessionId }) => text(server, sessionId) });
    const { result } = await collectRun(agent.execute({ prompt: 'think', effort: 'high' }));
    expect(result.status).toBe('completed');
    expect(prompts(fake)[0]!.body).toMatchObject({ variant: 'high' });
    // The server's configured model was looked up, since the request named none.
    expect(fake.calls.map((c) => c.path)).toEqual(expect.arrayContaining(['/config', '/config/providers']));
  });

  it('refuses effort and images with UNSUPPORTED_FIELD when the model lacks them, before any session or prompt', async () => {
    const { fake, agent } = setup({ onPrompt: ({ server, sessionId }) => text(server, sessionId) });
    const run = agent.execute({
      prompt: 'think',
      model: 'fake/fake-plain',
      effort: 'low',
      attachments: [{ kind: 'image', data: PNG, mimeType: 'image/png' }],
    });
    const { events, result } = await collectRun(run);
    sound(events);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('UNSUPPORTED_FIELD');
    expect(result.error?.message).toContain('model fake/fake-plain has no variant "low"');
    expect(result.error?.message).toContain('model fake/fake-plain takes no image input');
    expect(fake.calls.filter((c) => c.path === '/session' || c.path.endsWith('/prompt_async'))).toEqual([]);
  });

  it('refuses mcpServers synchronously: the server can only add MCP servers to its whole instance', () => {
    const { fake, agent } = setup();
    expect(() =>
      agent.execute({ prompt: 'use it', mcpServers: [{ name: 'probe', command: 'node', args: ['server.mjs'] }] }),
    ).toThrow(UnsupportedFieldError);
    expect(fake.calls).toEqual([]);
  });

  it('forks: POST /session/:id/fork, the prompt goes to the copy, the result carries the new id', async () => {
    const { fake, agent } = setup({
      sessionIds: ['ses_fake_original'],
      onPrompt: ({ server, sessionId }) => text(server, sessionId),
    });
    const run = agent.execute({ prompt: 'try another way', sessionId: 'ses_fake_original', fork: true });
    const { events, result } = await collectRun(run);
    sound(events);
    expect(result.status).toBe('completed');
    expect(result.sessionId).toBe('ses_fake_0');
    expect(events.find((e) => e.type === 'session.started')).toMatchObject({ sessionId: 'ses_fake_0' });
    expect(fake.calls.map((c) => `${c.method} ${c.path}`)).toEqual(
      expect.arrayContaining(['POST /session/ses_fake_original/fork', 'POST /session/ses_fake_0/prompt_async']),
    );
    expect(prompts(fake)).toHaveLength(1);
  });

  it('continues a session whose messages the server cannot list (400 after a json_schema prompt)', async () => {
    const { fake, agent } = setup({
      sessionIds: ['ses_fake_schema'],
      onPrompt: ({ server, sessionId }) => text(server, sessionId),
    });
    const broken = { name: 'BadRequest', data: { message: 'Expected OutputFormatJsonSchema' } };
    fake.failures.set('GET /session/ses_fake_schema/message', { status: 400, body: broken });
    const { events, result } = await collectRun(agent.execute({ prompt: 'again', sessionId: 'ses_fake_schema' }));
    sound(events);
    expect(result.status).toBe('completed');
    expect(result.text).toBe('done');
    expect(fake.calls.map((c) => `${c.method} ${c.path}`)).toContain('GET /session/ses_fake_schema');
  });
});
