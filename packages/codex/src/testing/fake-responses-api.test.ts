import { afterEach, describe, expect, it } from 'vitest';
import { type FakeResponsesApi, type FakeResponsesReply, startFakeResponsesApi } from './fake-responses-api.js';

/** The SSE frames of one streamed answer, parsed. */
async function events(res: Response): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((f) => f.trim())
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)![1]!;
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)![1]!) as Record<string, unknown>;
      return { event, data };
    });
}

describe('startFakeResponsesApi', () => {
  let api: FakeResponsesApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  const post = (body: unknown, signal?: AbortSignal) =>
    fetch(`${api!.url}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });

  const arrived = async (n: number) => {
    while (api!.requests.length < n) await new Promise((r) => setTimeout(r, 5));
  };

  const userInput = (text: string) => ({
    model: 'm',
    stream: true,
    input: [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: '<environment_context/>' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
    ],
  });

  it('streams text as deltas, then the whole message and usage, and records the request', async () => {
    api = await startFakeResponsesApi({ respond: (r) => ({ text: `echo: ${r.lastUserText}`, reasoning: 'hmm' }) });
    const res = await post(userInput('hello there'));
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const frames = await events(res);
    const names = frames.map((f) => f.event);
    expect(names[0]).toBe('response.created');
    expect(names.at(-1)).toBe('response.completed');
    expect(names).toContain('response.reasoning_summary_text.delta');
    const deltas = frames.filter((f) => f.event === 'response.output_text.delta').map((f) => f.data.delta);
    expect(deltas.join('')).toBe('echo: hello there');
    const usage = (frames.at(-1)!.data.response as { usage: Record<string, number> }).usage;
    expect(usage.input_tokens).toBeGreaterThan(0);
    for (const f of frames) expect(f.data.type).toBe(f.event);
    expect(api.requests[0]).toMatchObject({ method: 'POST', lastUserText: 'hello there', hasToolOutput: false });
    expect(api.requests[0]!.headers.authorization).toBe('Bearer k');
  });

  it('scripts a shell call, and sees its output on the next call', async () => {
    api = await startFakeResponsesApi({
      respond: (r): FakeResponsesReply => (r.hasToolOutput ? { text: `got ${r.toolOutput}` } : { shell: 'echo hi' }),
    });
    const first = await events(await post(userInput('run it')));
    const done = first.find((f) => f.event === 'response.output_item.done')!.data.item as Record<string, string>;
    expect(done).toMatchObject({ type: 'function_call', name: 'exec_command' });
    expect(JSON.parse(done.arguments!)).toEqual({ cmd: 'echo hi' });
    const second = await events(
      await post({
        input: [
          ...userInput('run it').input,
          done,
          { type: 'function_call_output', call_id: done.call_id, output: 'Chunk ID: 1\nWall time: 0\nOutput:\nhi\n' },
        ],
      }),
    );
    expect(api.requests[1]).toMatchObject({ hasToolOutput: true, toolOutput: 'hi\n' });
    expect(
      second
        .filter((f) => f.event === 'response.output_text.delta')
        .map((f) => f.data.delta)
        .join(''),
    ).toBe('got hi\n');
  });

  it('answers HTTP errors with an OpenAI error body, and response.failed in the stream', async () => {
    let reply: FakeResponsesReply = { status: 429 };
    api = await startFakeResponsesApi({ respond: () => reply });
    const res = await post(userInput('x'));
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ error: { type: 'rate_limit_exceeded', message: 'fake error 429' } });
    reply = { failed: 'nope' };
    const frames = await events(await post(userInput('x')));
    expect(frames.at(-1)).toMatchObject({
      event: 'response.failed',
      data: { response: { error: { message: 'nope' } } },
    });
    const other = await fetch(`${api.url}/models`);
    expect(other.status).toBe(404);
  });

  it('hangs until the client leaves, and close() does not wait for it', async () => {
    api = await startFakeResponsesApi({ respond: () => ({ hang: true }) });
    const controller = new AbortController();
    const pending = post(userInput('x'), controller.signal).catch((e: Error) => e);
    await arrived(1);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    const again = post(userInput('x')).catch((e: Error) => e);
    await arrived(2);
    await api.close();
    api = undefined;
    expect(await again).toBeInstanceOf(Error);
  });
});
