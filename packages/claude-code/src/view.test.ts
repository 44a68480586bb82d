import type { AgentEventInit } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { ClaudeEventMapper } from './mapper.js';
import { StreamJsonParser } from './stream-json.js';
import { fixtureBytes, type FixtureName } from './test-support/recorded-stdout.js';

function mapFixture(name: FixtureName, cwd?: string) {
  const mapper = new ClaudeEventMapper(cwd);
  const events: AgentEventInit[] = [];
  const parser = new StreamJsonParser((item) => mapper.mapItem(item, (e) => events.push(e)));
  parser.push(fixtureBytes(name));
  parser.end();
  return { mapper, events };
}

const of = <T extends AgentEventInit['type']>(events: AgentEventInit[], type: T) =>
  events.filter((e): e is Extract<AgentEventInit, { type: T }> => e.type === type);

describe('what a host sees: file changes, the plan, subagents (recorded runs of CLI 2.1.197)', () => {
  it('edit-plan: each successful Write and Edit is a file.changed with a unified diff, after its tool result', () => {
    const { events, mapper } = mapFixture('edit-plan');
    const changes = of(events, 'file.changed');
    expect(changes.map((c) => [c.path, c.change])).toEqual([
      ['a.txt', 'modified'], // Edit
      ['b.txt', 'added'], // Write of a new file
      ['a.txt', 'modified'], // Write over an existing file
    ]);
    expect(changes[0]!.diff).toBe('--- a.txt\n+++ a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n');
    expect(changes[1]!.diff).toBe('--- /dev/null\n+++ b.txt\n@@ -0,0 +1,1 @@\n+new file\n');
    expect(changes[2]!.diff).toBe('--- a.txt\n+++ a.txt\n@@ -1,3 +1,1 @@\n-one\n-TWO\n-three\n+replaced\n');
    // Each comes right after the result of the tool call it names.
    for (const c of changes) {
      const at = events.indexOf(c);
      expect(events[at - 1]).toMatchObject({ type: 'tool.result', callId: c.toolCallId, isError: false });
    }
    expect(mapper.finish({ status: 'completed' }).filesChanged).toEqual([
      { path: 'b.txt', change: 'added' },
      { path: 'a.txt', change: 'modified' },
    ]);
  });

  it('edit-plan: TaskCreate / TaskUpdate / TaskList become plan.updated with the whole plan, only when it changed', () => {
    const { events } = mapFixture('edit-plan');
    expect(of(events, 'plan.updated').map((p) => p.entries)).toEqual([
      [{ id: '1', content: 'Read the code', status: 'pending' }],
      [
        { id: '1', content: 'Read the code', status: 'pending' },
        { id: '2', content: 'Fix it', status: 'pending' },
      ],
      [
        { id: '1', content: 'Read the code', status: 'in_progress' },
        { id: '2', content: 'Fix it', status: 'pending' },
      ],
      // TaskList said the same: no event.
      [
        { id: '1', content: 'Read the code', status: 'completed' },
        { id: '2', content: 'Fix it', status: 'pending' },
      ],
    ]);
  });

  it('keeps paths outside the run cwd absolute', () => {
    const { events } = mapFixture('edit-plan', '/elsewhere');
    // The init line names the CLI's cwd, which wins over the one given.
    expect(of(events, 'file.changed')[0]!.path).toBe('a.txt');
    const mapper = new ClaudeEventMapper('/srv/app');
    const out: AgentEventInit[] = [];
    mapper.map(
      {
        type: 'assistant',
        message: {
          id: 'm',
          content: [{ type: 'tool_use', id: 't1', name: 'Write', input: { file_path: '/etc/x', content: 'x' } }],
        },
      },
      (e) => out.push(e),
    );
    mapper.map(
      {
        type: 'user',
        message: {
          content: [{ type: 'tool_result', tool_use_id: 't1', content: 'File created successfully at: /etc/x' }],
        },
      },
      (e) => out.push(e),
    );
    expect(of(out, 'file.changed')[0]).toMatchObject({ path: '/etc/x', change: 'added' });
  });

  it('subagent: every event of the Task tool’s conversation carries parentToolCallId, its file change too', () => {
    const { events } = mapFixture('subagent');
    const task = of(events, 'tool.call').find((c) => c.name === 'Task')!;
    const nested = events.filter((e) => e.parentToolCallId !== undefined);
    expect(nested.length).toBeGreaterThan(2);
    for (const e of nested) expect(e.parentToolCallId).toBe(task.callId);
    const write = of(events, 'tool.call').find((c) => c.name === 'Write')!;
    expect(write.parentToolCallId).toBe(task.callId);
    const change = of(events, 'file.changed')[0]!;
    // The subagent's lines carry no tool_use_result: "File created successfully" in the output says added.
    expect(change).toMatchObject({ path: 'sub.txt', change: 'added', parentToolCallId: task.callId });
    expect(change.diff).toBe('--- /dev/null\n+++ sub.txt\n@@ -0,0 +1,1 @@\n+from the subagent\n');
    // The main agent's own events are not nested.
    expect(task.parentToolCallId).toBeUndefined();
    expect(of(events, 'message').at(-1)!.parentToolCallId).toBeUndefined();
  });
});
