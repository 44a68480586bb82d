import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectRun, runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { claudeCliRig } from './test-support/claude-cli-rig.js';
import type { FakeReply } from './testing/index.js';

/** What a host sees (issue 22) from the real CLI against the fake Messages API: diffs, the plan, subagents. */
describe('claudeCode file changes, plan and subagents with the real CLI against a fake Anthropic API', () => {
  const rig = claudeCliRig();
  const { agent, ofType } = rig;

  /** Answers the model turns in order, whatever they say. */
  const script = (replies: FakeReply[]) => {
    let i = 0;
    rig.responder = () => replies[Math.min(i++, replies.length - 1)]!;
  };

  it('an Edit, a Write and the Task tools: file.changed with diffs, plan.updated, result.filesChanged', async () => {
    const file = join(rig.scratch, 'notes.txt');
    await writeFile(file, 'alpha\nbeta\ngamma\n');
    script([
      { toolUse: { name: 'TaskCreate', input: { subject: 'Fix beta', description: 'x', activeForm: 'Fixing beta' } } },
      { toolUse: { name: 'TaskUpdate', input: { taskId: '1', status: 'in_progress' } } },
      { toolUse: { name: 'Read', input: { file_path: file } } },
      { toolUse: { name: 'Edit', input: { file_path: file, old_string: 'beta', new_string: 'BETA' } } },
      { toolUse: { name: 'Write', input: { file_path: join(rig.scratch, 'new.txt'), content: 'fresh\n' } } },
      { toolUse: { name: 'TaskUpdate', input: { taskId: '1', status: 'completed' } } },
      { text: 'Done.' },
    ]);
    const run = agent({}, { permissionMode: 'acceptEdits' }).execute({ prompt: 'fix beta' });
    const { events, result } = await collectRun(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    const changes = ofType(events, 'file.changed');
    expect(changes.map((c) => [c.path, c.change, c.diff])).toEqual([
      ['notes.txt', 'modified', '--- notes.txt\n+++ notes.txt\n@@ -1,3 +1,3 @@\n alpha\n-beta\n+BETA\n gamma\n'],
      ['new.txt', 'added', '--- /dev/null\n+++ new.txt\n@@ -0,0 +1,1 @@\n+fresh\n'],
    ]);
    expect(result.filesChanged).toEqual([
      { path: 'notes.txt', change: 'modified' },
      { path: 'new.txt', change: 'added' },
    ]);
    expect(ofType(events, 'plan.updated').map((p) => p.entries.map((e) => `${e.id}:${e.content}:${e.status}`))).toEqual(
      [['1:Fix beta:pending'], ['1:Fix beta:in_progress'], ['1:Fix beta:completed']],
    );
  });

  it("a subagent's work is nested under its Task tool call", async () => {
    rig.responder = (req) => {
      if (req.lastUserText.includes('SUBAGENT'))
        return req.hasToolResult
          ? { text: 'subagent done' }
          : { toolUse: { name: 'Write', input: { file_path: join(rig.scratch, 'sub.txt'), content: 'sub\n' } } };
      if (req.hasToolResult) return { text: 'main done' };
      return {
        toolUse: {
          name: 'Task',
          input: { description: 'delegate', prompt: 'SUBAGENT write a file', subagent_type: 'general-purpose' },
        },
      };
    };
    const { events, result } = await collectRun(
      agent({}, { permissionMode: 'acceptEdits' }).execute({ prompt: 'delegate it' }),
    );
    expect(result.status).toBe('completed');
    const task = ofType(events, 'tool.call').find((c) => c.name === 'Task')!;
    const write = ofType(events, 'tool.call').find((c) => c.name === 'Write')!;
    expect(write.parentToolCallId).toBe(task.callId);
    expect(ofType(events, 'file.changed')).toMatchObject([
      { path: 'sub.txt', change: 'added', parentToolCallId: task.callId },
    ]);
    expect(task.parentToolCallId).toBeUndefined();
  });
});
