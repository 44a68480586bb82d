import { afterEach, describe, expect, it } from 'vitest';
import { type FakeResponsesApi, type FakeResponsesResponder, startFakeResponsesApi } from './fake-responses-api.js';
import { outputRepairScenario, REPAIR_MARKER, runawayScenario } from './fake-scenarios.js';

type Frame = { type: string; item?: Record<string, unknown>; response?: Record<string, unknown> };

describe('the fake Responses API scenarios', () => {
  let api: FakeResponsesApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  /** One model call: the finished output items and the completed response's usage. */
  const ask = async (respond: FakeResponsesResponder, input: unknown[]) => {
    api ??= await startFakeResponsesApi({ respond });
    const res = await fetch(`${api.url}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, input }),
    });
    const frames = (await res.text())
      .split('\n\n')
      .filter((f) => f.trim())
      .map((f) => JSON.parse(/^data: (.*)$/m.exec(f)![1]!) as Frame);
    const done = frames.find((f) => f.type === 'response.completed')!.response!;
    return { items: done.output as Array<Record<string, unknown>>, usage: done.usage as Record<string, number> };
  };
  const user = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
  const toolOutput = (output: string) => ({ type: 'function_call_output', call_id: 'c1', output });

  it('runs away: a shell call on every model call, tool output or not, until a request it does not own', async () => {
    const respond = runawayScenario(
      (n) => `echo ${n}`,
      (req) => req.lastUserText === 'stop',
    );
    const first = await ask(respond, [user('go')]);
    expect(first.items[0]).toMatchObject({
      type: 'function_call',
      name: 'exec_command',
      arguments: '{"cmd":"echo 1"}',
    });
    const second = await ask(respond, [user('go'), toolOutput('1')]);
    expect(second.items[0]).toMatchObject({ arguments: '{"cmd":"echo 2"}' });
    // Every call reports its token usage, so a budget can count the run as it goes.
    expect(second.usage.input_tokens).toBeGreaterThan(0);
    expect(second.usage.output_tokens).toBeGreaterThan(0);
    const stopped = await ask(respond, [user('stop')]);
    expect(stopped.items[0]).toMatchObject({ type: 'message' });
  });

  it('answers a schema mismatch until the repair prompt, then the repaired value', async () => {
    const respond = outputRepairScenario({ verdict: 'maybe' }, { verdict: 'approve' });
    const text = (items: Array<Record<string, unknown>>) => (items[0]!.content as Array<{ text: string }>)[0]!.text;
    expect(text((await ask(respond, [user('review')])).items)).toBe('{"verdict":"maybe"}');
    const repaired = await ask(respond, [user('review'), user(`Your answer ${REPAIR_MARKER}: bad verdict`)]);
    expect(text(repaired.items)).toBe('{"verdict":"approve"}');
  });
});
