import { afterEach, describe, expect, it } from 'vitest';
import { claudeBinPath, fakeAnthropicEnv } from './env.js';
import { startFakeAnthropicApi, type FakeAnthropicApi, type FakeResponder } from './fake-anthropic-api.js';

const TOOLS = [{ name: 'Bash', description: 'run', input_schema: { type: 'object' } }];

function sseEvents(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)![1]!;
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)![1]!) as Record<string, unknown>;
      return { event, data };
    });
}

describe('startFakeAnthropicApi', () => {
  let api: FakeAnthropicApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  const start = async (respond?: FakeResponder) => {
    api = await startFakeAnthropicApi(respond ? { respond } : {});
    return api;
  };
  const post = (path: string, body: unknown) =>
    fetch(`${api!.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
      body: JSON.stringify(body),
    });

  it('streams a text answer as the real API does, in several deltas, quoting the user by default', async () => {
    await start();
    const res = await post('/v1/messages?beta=true', {
      model: 'claude-x',
      stream: true,
      tools: TOOLS,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '<system-reminder>ctx</system-reminder>' },
            { type: 'text', text: 'hello there, how are you today my friend' },
          ],
        },
      ],
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = sseEvents(await res.text());
    const names = events.map((e) => e.event);
    expect(names.slice(0, 3)).toEqual(['message_start', 'ping', 'content_block_start']);
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    for (const e of events) expect(e.data.type).toBe(e.event);
    const deltas = events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (e.data.delta as { text: string }).text);
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe('Offline stand-in model here. You said: hello there, how are you today my friend');
    expect((events[0]!.data.message as { model: string }).model).toBe('claude-x');
    const delta = events.find((e) => e.event === 'message_delta')!.data;
    expect(delta).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { output_tokens: expect.any(Number) } });
    expect(api!.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/messages?beta=true',
      lastUserText: 'hello there, how are you today my friend',
      hasToolResult: false,
    });
    expect(api!.requests[0]!.headers['x-api-key']).toBe('k');
  });

  it('streams a tool call with its input as input_json_delta pieces, and sees the tool result after', async () => {
    await start((req) =>
      req.hasToolResult
        ? { text: 'ok' }
        : { toolUse: { name: 'Bash', input: { command: 'echo hi' }, id: 'toolu_1' }, text: 'Running.' },
    );
    const events = sseEvents(
      await (
        await post('/v1/messages', { stream: true, tools: TOOLS, messages: [{ role: 'user', content: 'go' }] })
      ).text(),
    );
    const starts = events.filter((e) => e.event === 'content_block_start').map((e) => e.data.content_block);
    expect(starts).toEqual([
      { type: 'text', text: '' },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} },
    ]);
    const json = events
      .filter(
        (e) => e.event === 'content_block_delta' && (e.data.delta as { type: string }).type === 'input_json_delta',
      )
      .map((e) => (e.data.delta as { partial_json: string }).partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual({ command: 'echo hi' });
    expect(events.find((e) => e.event === 'message_delta')!.data).toMatchObject({ delta: { stop_reason: 'tool_use' } });

    const after = await post('/v1/messages', {
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'hi' }] },
      ],
    });
    expect(await after.json()).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'ok' }],
      stop_reason: 'end_turn',
    });
    expect(api!.requests[1]!.hasToolResult).toBe(true);
  });

  it('answers HTTP errors with an Anthropic error body, or the one given', async () => {
    await start((req) => (req.lastUserText === 'custom' ? { status: 429, body: { nope: true } } : { status: 401 }));
    const res = await post('/v1/messages', { tools: TOOLS, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'fake error 401' },
    });
    const custom = await post('/v1/messages', { tools: TOOLS, messages: [{ role: 'user', content: 'custom' }] });
    expect(custom.status).toBe(429);
    expect(await custom.json()).toEqual({ nope: true });
  });

  it('answers the side requests itself: token counts, models, probes, and title requests without tools', async () => {
    let asked = 0;
    await start(() => {
      asked++;
      return { toolUse: { name: 'Bash', input: {} } };
    });
    expect(
      await (
        await post('/v1/messages/count_tokens', { messages: [{ role: 'user', content: 'abcd'.repeat(10) }] })
      ).json(),
    ).toEqual({ input_tokens: expect.any(Number) });
    expect((await fetch(`${api!.url}/`, { method: 'HEAD' })).status).toBe(200);
    expect((await (await fetch(`${api!.url}/v1/models`)).json()).data[0].type).toBe('model');
    const title = await (
      await post('/v1/messages', { system: 'Write a 3-word title', messages: [{ role: 'user', content: 'x' }] })
    ).json();
    expect(title.content[0]).toEqual({ type: 'text', text: 'Offline stand-in' });
    expect(asked).toBe(0);
    expect(api!.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/messages/count_tokens',
      'HEAD /',
      'GET /v1/models',
      'POST /v1/messages',
    ]);
  });

  it('hangs until closed, and close() ends the open connection', async () => {
    await start(() => ({ hang: true }));
    const pending = post('/v1/messages', {
      stream: true,
      tools: TOOLS,
      messages: [{ role: 'user', content: 'x' }],
    }).then(
      () => 'answered',
      () => 'cut',
    );
    while (api!.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await api!.close();
    api = undefined;
    expect(await pending).toBe('cut');
  });

  it('paces deltas with delayMs', async () => {
    await start(() => ({ text: 'a b c', delayMs: 5 }));
    const events = sseEvents(
      await (
        await post('/v1/messages', { stream: true, tools: TOOLS, messages: [{ role: 'user', content: 'x' }] })
      ).text(),
    );
    expect(
      events
        .filter((e) => e.event === 'content_block_delta')
        .map((e) => (e.data.delta as { text: string }).text)
        .join(''),
    ).toBe('a b c');
  });
});

describe('fakeAnthropicEnv and claudeBinPath', () => {
  it('point the CLI at the fake with telemetry, updates and other traffic off', () => {
    expect(fakeAnthropicEnv('http://127.0.0.1:9')).toMatchObject({
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
      ANTHROPIC_API_KEY: expect.any(String),
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    });
  });

  it('finds the native CLI binary of the devDependency', () => {
    expect(claudeBinPath()).toMatch(/@anthropic-ai[/\\]claude-code[/\\]bin[/\\]claude\.exe$/);
  });
});
