import { describe, expect, it } from 'vitest';
import { emptyUsage, type AgentEvent } from './events.js';
import { EventBound } from './bound-event.js';
import { MAX_EVENT_DEPTH } from './bounded-value.js';

function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < depth; i++) v = { a: [v] };
  return v;
}

const envelope = { runId: 'r', seq: 1, time: 0, provider: 'test' };
type ToolCall = Extract<AgentEvent, { type: 'tool.call' }>;
const toolCall = (input: unknown, raw?: unknown): ToolCall => ({
  ...envelope,
  type: 'tool.call',
  callId: 'c',
  name: 'Bash',
  input: input as ToolCall['input'],
  raw,
});

/** A provider line whose reads are counted: each walk of it reads its `message` once. */
function countedLine(input: object) {
  let reads = 0;
  const message = { content: [{ type: 'tool_use', input }], usage: { input_tokens: 1 } };
  const line = { type: 'assistant' } as Record<string, unknown>;
  Object.defineProperty(line, 'message', {
    enumerable: true,
    get: () => {
      reads++;
      return message;
    },
  });
  return { line, reads: () => reads };
}

describe('EventBound', () => {
  it('walks a line its adapter made several events of once, and the part met inside it not again', () => {
    const input = { command: 'ls' };
    const { line, reads } = countedLine(input);
    const bound = new EventBound();
    const first = toolCall(input, line);
    bound.bound(first);
    expect(reads()).toBe(1);
    bound.bound({ ...envelope, type: 'usage', usage: emptyUsage(), raw: line });
    bound.bound(toolCall(input, line));
    expect(reads()).toBe(1);
    expect(first.raw).toBe(line);
    expect(first.input).toBe(input);
  });

  it('still cuts a deep part that is not inside the line it shares with the event before', () => {
    const input = { command: 'ls' };
    const { line } = countedLine(input);
    const bound = new EventBound();
    bound.bound(toolCall(input, line));
    const deep = toolCall(nested(200), line);
    bound.bound(deep);
    expect(deep.raw).toBe(line);
    expect(JSON.stringify(deep.input)).toContain(`{"$truncated":"depth>${MAX_EVENT_DEPTH}"}`);
  });

  it('cuts a deep line every time it comes, never remembering it as within the bounds', () => {
    const line = { type: 'assistant', deep: nested(200) };
    const bound = new EventBound();
    const events = [toolCall({ a: 1 }, line), toolCall({ a: 1 }, line)];
    for (const event of events) bound.bound(event);
    for (const event of events) {
      expect(event.raw).not.toBe(line);
      expect(JSON.stringify(event.raw)).toContain(`{"$truncated":"depth>${MAX_EVENT_DEPTH}"}`);
    }
  });

  it('cuts a deep input inside a deep line in both', () => {
    const input = nested(200);
    const event = toolCall(input, { type: 'assistant', input });
    new EventBound().bound(event);
    expect(JSON.stringify(event.raw)).toContain('$truncated');
    expect(JSON.stringify(event.input)).toContain('$truncated');
  });
});
