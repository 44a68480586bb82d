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
});
