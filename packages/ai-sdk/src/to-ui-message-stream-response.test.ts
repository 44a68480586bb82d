import { scriptedAgent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { toUIMessageStream } from './to-ui-message-stream.js';
import { toUIMessageStreamResponse } from './to-ui-message-stream-response.js';

const agent = () => scriptedAgent({ steps: [{ type: 'message', text: 'hi there' }, { hang: true }] });

describe('toUIMessageStreamResponse', () => {
  it('passes status and headers through, keeps the AI SDK headers, and streams SSE frames', async () => {
    const run = agent().execute({ prompt: 'hi' });
    const response = toUIMessageStreamResponse(run, { status: 201, headers: { 'x-run-id': run.id } });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-run-id')).toBe(run.id);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('hi there')) text += (await reader.read()).value ?? '';
    expect(text).toMatch(/^data: \{"type":"start"/);
    // The client goes away: the body is cancelled, and so is the run.
    await reader.cancel();
    expect((await run.result).status).toBe('cancelled');
  });

  it('cancelRunOnAbort: false leaves the run going when the reader cancels', async () => {
    const run = agent().execute({ prompt: 'hi' });
    const reader = toUIMessageStream(run, { cancelRunOnAbort: false }).getReader();
    await reader.read();
    await reader.cancel();
    // Had the stream cancelled it, the run would carry the stream's reason, not this one.
    const result = await run.cancel('the host stops it');
    expect(result.error?.message).toBe('The run was cancelled: the host stops it');
  });
});
