import { describe, expect, it } from 'vitest';
import type { ChatRequest } from './fake-openai-api.js';
import { outputRepairReply, REPAIR_MARKER, runawayReply, STRUCTURED_OUTPUT_TOOL } from './fake-scenarios.js';

const request = (messages: ChatRequest['messages'], tools: string[] = ['bash']): ChatRequest => ({
  messages,
  tools: tools.map((name) => ({ type: 'function', function: { name } })),
});

describe('the fake chat-completions scenarios', () => {
  it('runs away: a bash call on every model call, tool result or not', () => {
    const reply = runawayReply((n) => `echo ${n}`);
    expect(reply(request([{ role: 'user', content: 'go' }]))).toMatchObject({
      kind: 'tool',
      calls: [{ name: 'bash', arguments: { command: 'echo 1' } }],
    });
    expect(
      reply(
        request([
          { role: 'user', content: 'go' },
          { role: 'tool', content: '1', tool_call_id: 'c' },
        ]),
      ),
    ).toMatchObject({ calls: [{ arguments: { command: 'echo 2' } }] });
  });

  it('answers a schema mismatch through the structured-output tool until the repair prompt, then the repaired value', () => {
    const reply = outputRepairReply({ verdict: 'maybe' }, { verdict: 'approve' });
    const tools = [STRUCTURED_OUTPUT_TOOL];
    expect(reply(request([{ role: 'user', content: 'review' }], tools))).toEqual({
      kind: 'tool',
      calls: [{ name: STRUCTURED_OUTPUT_TOOL, arguments: { verdict: 'maybe' } }],
    });
    const repair = [{ type: 'text', text: `Your answer ${REPAIR_MARKER}: bad verdict` }];
    expect(reply(request([{ role: 'user', content: repair }], tools))).toMatchObject({
      calls: [{ arguments: { verdict: 'approve' } }],
    });
    // Without the tool on offer, the same answer as JSON text.
    expect(reply(request([{ role: 'user', content: 'again' }], []))).toEqual({
      kind: 'text',
      text: '{"verdict":"approve"}',
    });
  });
});
