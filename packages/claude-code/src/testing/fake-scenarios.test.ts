import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAnthropicApi, type FakeAnthropicApi, type FakeResponder } from './fake-anthropic-api.js';
import {
  attachmentsScenario,
  mcpNonceScenario,
  outputRepairScenario,
  REPAIR_MARKER,
  runawayScenario,
  structuredOutputScenario,
} from './fake-scenarios.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const SYSTEM = 'You are Claude Code, an agent.';

describe('the fake API scenarios', () => {
  let api: FakeAnthropicApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const ask = async (respond: FakeResponder, body: Record<string, unknown>) => {
    api ??= await startFakeAnthropicApi({ respond });
    const res = await fetch(`${api.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', system: SYSTEM, ...body }),
    });
    return (await res.json()) as { content: Array<Record<string, unknown>> };
  };
  const tools = (...names: string[]) => names.map((name) => ({ name, input_schema: { type: 'object' } }));
  const user = (content: unknown) => [{ role: 'user', content }];

  it('records the tools offered and the image and document blocks received, and reports them', async () => {
    const answer = await ask(attachmentsScenario, {
      tools: tools('Read'),
      messages: user([
        { type: 'text', text: 'look' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'document', title: 'n.txt', source: { type: 'text', media_type: 'text/plain', data: 'abc' } },
      ]),
    });
    expect(api!.requests[0]).toMatchObject({
      tools: ['Read'],
      attachments: [
        { type: 'image', mediaType: 'image/png', size: 70 },
        { type: 'document', mediaType: 'text/plain', size: 3, title: 'n.txt' },
      ],
    });
    expect(answer.content[0]).toEqual({
      type: 'text',
      text: 'Received 2: image image/png 70 bytes; document text/plain 3 bytes "n.txt"',
    });
  });

  it('calls an offered MCP tool, then echoes its answer; says so when it is not offered', async () => {
    const first = await ask(mcpNonceScenario('probe'), { tools: tools('mcp__probe__nonce'), messages: user('nonce?') });
    expect(first.content[0]).toMatchObject({ type: 'tool_use', name: 'mcp__probe__nonce' });
    const second = await ask(mcpNonceScenario('probe'), {
      tools: tools('mcp__probe__nonce'),
      messages: user([{ type: 'tool_result', tool_use_id: first.content[0]!.id, content: 'n-123' }]),
    });
    expect(second.content[0]!.text).toContain('n-123');
    const none = await ask(mcpNonceScenario('probe'), { tools: tools('Bash'), messages: user('nonce?') });
    expect(none.content[0]!.text).toBe('No tool mcp__probe__nonce was offered (1 tools).');
  });

  it('answers through StructuredOutput when offered, else as JSON text', async () => {
    const value = { verdict: 'approve' };
    const tool = await ask(structuredOutputScenario(value), {
      tools: tools('StructuredOutput'),
      messages: user('review'),
    });
    expect(tool.content[0]).toMatchObject({ type: 'tool_use', name: 'StructuredOutput', input: value });
    const text = await ask(structuredOutputScenario(value), { tools: tools('Bash'), messages: user('review') });
    expect(text.content[0]).toEqual({ type: 'text', text: '{"verdict":"approve"}' });
  });

  it('runs away: calls the tool on every turn, tool result or not, until a request it does not own', async () => {
    const respond = runawayScenario(
      'Bash',
      (n) => ({ command: `echo ${n}` }),
      (req) => req.lastUserText === 'stop',
    );
    const first = await ask(respond, { tools: tools('Bash'), messages: user('go') });
    expect(first.content[0]).toMatchObject({ type: 'tool_use', name: 'Bash', input: { command: 'echo 1' } });
    const second = await ask(respond, {
      tools: tools('Bash'),
      messages: user([{ type: 'tool_result', tool_use_id: first.content[0]!.id, content: '1' }]),
    });
    expect(second.content[0]).toMatchObject({ type: 'tool_use', input: { command: 'echo 2' } });
    const stopped = await ask(respond, { tools: tools('Bash'), messages: user('stop') });
    expect(stopped.content[0]).toMatchObject({ type: 'text' });
  });

  it('reports token usage on every answer, streamed or whole', async () => {
    const whole = (await ask(() => ({ text: 'hi' }), { messages: user('count me') })) as unknown as {
      usage: { input_tokens: number; output_tokens: number };
    };
    expect(whole.usage.input_tokens).toBeGreaterThan(0);
    expect(whole.usage.output_tokens).toBeGreaterThan(0);
    const res = await fetch(`${api!.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', system: SYSTEM, stream: true, messages: user('count me') }),
    });
    const sse = await res.text();
    expect(sse).toMatch(/event: message_delta\ndata: .*"usage":\{"output_tokens":\d+\}/);
  });

  it('answers a schema mismatch until the repair prompt, then the repaired value', async () => {
    const respond = outputRepairScenario({ verdict: 'maybe' }, { verdict: 'approve' });
    const offered = { tools: tools('StructuredOutput') };
    const first = await ask(respond, { ...offered, messages: user('review') });
    expect(first.content[0]).toMatchObject({ input: { verdict: 'maybe' } });
    const repaired = await ask(respond, { ...offered, messages: user(`Your answer ${REPAIR_MARKER}: bad verdict`) });
    expect(repaired.content[0]).toMatchObject({ input: { verdict: 'approve' } });
  });
});
