import { afterEach, describe, expect, it } from 'vitest';
import { type FakeGeminiApi, startFakeGeminiApi, valueForSchema } from './fake-gemini-api.js';

describe('startFakeGeminiApi', () => {
  let api: FakeGeminiApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  const turn = (text: string, extra: Record<string, unknown> = {}) => ({
    contents: [{ role: 'user', parts: [{ text: '<session_context>\nstuff\n</session_context>' }, { text }] }],
    tools: [{ functionDeclarations: [{ name: 'run_shell_command' }] }],
    ...extra,
  });
  const post = (path: string, body: unknown) =>
    fetch(`${api!.url}/v1beta/models/${path}`, { method: 'POST', body: JSON.stringify(body) });

  it('streams text as SSE GenerateContentResponse chunks, the last with finishReason and usage', async () => {
    api = await startFakeGeminiApi({ respond: (r) => ({ text: `you said ${r.lastUserText}` }) });
    const res = await post('gemini-2.5-flash:streamGenerateContent?alt=sse', turn('hello there'));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const frames = (await res.text())
      .split('\r\n\r\n')
      .filter(Boolean)
      .map((f) => JSON.parse(f.replace(/^data: /, '')));
    expect(frames.map((f) => f.candidates[0].content.parts[0].text).join('')).toBe('you said hello there');
    expect(frames.at(-1)).toMatchObject({
      candidates: [{ finishReason: 'STOP' }],
      usageMetadata: { totalTokenCount: expect.any(Number) },
    });
    expect(api.requests[0]).toMatchObject({
      model: 'gemini-2.5-flash',
      action: 'streamGenerateContent',
      tools: ['run_shell_command'],
    });
  });

  it('answers function calls, errors, schema requests (the router) and side requests', async () => {
    const seen: string[] = [];
    api = await startFakeGeminiApi({
      respond: (r) => {
        seen.push(r.lastUserText);
        return r.lastUserText === 'fail'
          ? { status: 429 }
          : { functionCall: { name: 'run_shell_command', args: { command: 'ls' } } };
      },
    });
    const call = await (await post('m:generateContent', turn('go'))).json();
    expect(call.candidates[0].content.parts).toEqual([
      { functionCall: { name: 'run_shell_command', args: { command: 'ls' } } },
    ]);
    const failed = await post('m:generateContent', turn('fail'));
    expect(failed.status).toBe(429);
    expect(await failed.json()).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
    const schema = {
      type: 'object',
      properties: {
        complexity_reasoning: { type: 'string' },
        complexity_score: { type: 'integer', minimum: 1, maximum: 100 },
      },
    };
    const routed = await (
      await post('gemini-3.5-flash-lite:generateContent', {
        contents: [{ role: 'user', parts: [{ text: 'x' }] }],
        generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema },
      })
    ).json();
    expect(JSON.parse(routed.candidates[0].content.parts[0].text)).toEqual({
      complexity_reasoning: 'offline stand-in',
      complexity_score: 1,
    });
    const side = await (
      await post('m:generateContent', { contents: [{ role: 'user', parts: [{ text: 'title?' }] }] })
    ).json();
    expect(side.candidates[0].content.parts[0].text).toBe('Offline stand-in');
    expect(seen).toEqual(['go', 'fail']);
    expect(valueForSchema({ type: 'string', enum: ['a', 'b'] })).toBe('a');
  });

  it('default scenarios: [[mcp]] calls the offered nonce tool and echoes its answer; [[images]] reports images', async () => {
    api = await startFakeGeminiApi();
    const part = (r: { candidates: Array<{ content: { parts: unknown[] } }> }) => r.candidates[0]!.content.parts;
    const offered = turn('[[mcp]] call it', {
      tools: [{ functionDeclarations: [{ name: 'read_file' }, { name: 'mcp_probe_nonce' }] }],
    });
    expect(part(await (await post('m:generateContent', offered)).json())).toEqual([
      { text: 'Calling mcp_probe_nonce.' },
      { functionCall: { name: 'mcp_probe_nonce', args: {} } },
    ]);
    const answered = {
      contents: [
        ...offered.contents,
        { role: 'model', parts: [{ functionCall: { name: 'mcp_probe_nonce', args: {} } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'mcp_probe_nonce', response: { output: 'nonce-42' } } }] },
      ],
      tools: offered.tools,
    };
    expect(part(await (await post('m:generateContent', answered)).json())).toEqual([
      { text: 'Offline stand-in model here. The tool answered: nonce-42' },
    ]);
    const none = await (await post('m:generateContent', turn('[[mcp]] call it'))).json();
    expect(part(none)).toEqual([{ text: 'No nonce tool is offered (tools: run_shell_command).' }]);

    const png = Buffer.from('not really a png').toString('base64');
    const withImage = {
      contents: [
        { role: 'user', parts: [{ text: '[[images]] look' }, { inlineData: { mimeType: 'image/png', data: png } }] },
      ],
      tools: [{ functionDeclarations: [{ name: 'read_file' }] }],
    };
    expect(part(await (await post('m:generateContent', withImage)).json())).toEqual([
      { text: 'I received 1 image(s): image/png (16 bytes).' },
    ]);
    expect(api.requests.at(-1)!.images).toEqual([{ mimeType: 'image/png', data: png, bytes: 16 }]);
  });

  it('[[json]] answers a value fitting the schema the prompt ends with; [[badjson]] does not until asked to repair', async () => {
    api = await startFakeGeminiApi();
    const schema = { type: 'object', properties: { verdict: { enum: ['ok', 'bad'] } }, required: ['verdict'] };
    const ask = (text: string) =>
      post(
        'm:generateContent',
        turn(`${text}\n\nAnswer with only a JSON value matching this JSON Schema:\n${JSON.stringify(schema)}`),
      )
        .then((r) => r.json())
        .then((r) => r.candidates[0].content.parts[0].text);
    expect(JSON.parse(await ask('[[json]] judge'))).toEqual({ verdict: 'ok' });
    expect(JSON.parse(await ask('[[badjson]] judge'))).toEqual({ unexpected: true });
    expect(JSON.parse(await ask('Your answer did not match the required JSON Schema: x'))).toEqual({ verdict: 'ok' });
  });
});
