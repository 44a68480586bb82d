import type { AgentEvent } from '@forge/core';
import { collectRun, firstEvent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { questionAsked } from './test-support/fake-opencode.js';
import { body, mswOpencode, sound } from './test-support/msw-opencode.js';
import { messagesAfter } from './test-support/recorded.js';

const { setup } = mswOpencode();

/** Replays a recording as the server's answer to the run's prompt; the recorded run was in /tmp/ocx/proj. */
function replay(name: Parameters<typeof body>[0], agentOptions = { directory: '/tmp/ocx/proj' }) {
  const { sid, frames } = body(name);
  const { fake, agent } = setup({ sessionIds: [sid], onPrompt: ({ server }) => server.send(...frames) }, agentOptions);
  for (const id of new Set(frames.map((f) => /"sessionID":"(ses_[^"]+)"/.exec(f)?.[1]).filter(Boolean))) {
    fake.messages.set(id!, messagesAfter(frames, id!));
  }
  return { sid, frames, fake, agent };
}

const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);

describe('opencode adapter on recorded runs: file changes, the plan, subagents', () => {
  it('turns a completed edit into file.changed with a unified diff, path relative to cwd (edit-write.sse)', async () => {
    const { agent } = replay('edit-write');
    const run = agent.execute({ prompt: 'FILES please' });
    const { events, result } = await collectRun(run);
    sound(events);
    const changes = ofType(events, 'file.changed');
    expect(changes.map(({ path, change, toolCallId }) => ({ path, change, toolCallId }))).toEqual([
      { path: 'a.txt', change: 'modified', toolCallId: 'call_fake_5_0' },
      { path: 'src/b.txt', change: 'added', toolCallId: 'call_fake_5_1' },
    ]);
    expect(changes[0]!.diff).toBe(
      'Index: a.txt\n===================================================================\n--- a.txt\n+++ a.txt\n@@ -1,2 +1,2 @@\n-one\n+uno\n two\n',
    );
    expect(changes[1]!.diff).toContain('--- src/b.txt\n+++ src/b.txt\n@@ -0,0 +1,1 @@\n+new file\n');
    // Emitted once applied: after the tool's own result, never at the proposal (pending/running).
    for (const change of changes) {
      const resultAt = events.findIndex((e) => e.type === 'tool.result' && e.callId === change.toolCallId);
      expect(resultAt).toBeGreaterThan(-1);
      expect(change.seq).toBeGreaterThan(events[resultAt]!.seq);
    }
    expect(result.filesChanged).toEqual([
      { path: 'a.txt', change: 'modified' },
      { path: 'src/b.txt', change: 'added' },
    ]);
  });

  it('reads apply_patch (GPT models’ file tool) into one file.changed per file (apply-patch.sse)', async () => {
    const { agent } = replay('apply-patch');
    const { events, result } = await collectRun(agent.execute({ prompt: 'APPLY please' }));
    sound(events);
    const changes = ofType(events, 'file.changed');
    expect(changes.map(({ path, change, toolCallId }) => ({ path, change, toolCallId }))).toEqual([
      { path: 'c.txt', change: 'added', toolCallId: 'call_fake_2_0' },
      { path: 'a.txt', change: 'modified', toolCallId: 'call_fake_2_0' },
    ]);
    expect(changes[0]!.diff).toContain('--- c.txt\n+++ c.txt\n@@ -0,0 +1,1 @@\n+hello\n');
    expect(changes[1]!.diff).toContain('--- a.txt\n+++ a.txt\n@@ -1,2 +1,2 @@\n-one\n+eins\n two\n');
    expect(result.filesChanged).toEqual([
      { path: 'c.txt', change: 'added' },
      { path: 'a.txt', change: 'modified' },
    ]);
  });

  it('keeps absolute paths outside the cwd, and takes the session’s directory when the run names none', async () => {
    const outside = replay('edit-write', { directory: '/elsewhere' });
    const r1 = await collectRun(outside.agent.execute({ prompt: 'FILES please' }));
    expect(r1.result.filesChanged?.map((f) => f.path)).toEqual(['/tmp/ocx/proj/a.txt', '/tmp/ocx/proj/src/b.txt']);
    // No directory: the session's own (as `POST /session` answers it) is the base.
    const { sid, frames } = body('edit-write');
    const { fake, agent } = setup({
      sessionIds: [sid],
      directory: '/tmp/ocx/proj',
      onPrompt: ({ server }) => server.send(...frames),
    });
    fake.messages.set(sid, messagesAfter(frames, sid));
    const r2 = await collectRun(agent.execute({ prompt: 'FILES please' }));
    expect(r2.result.filesChanged?.map((f) => f.path)).toEqual(['a.txt', 'src/b.txt']);
  });

  it('maps todo.updated to plan.updated with the whole plan, once per change (todo-write.sse)', async () => {
    const { agent, frames } = replay('todo-write');
    const todo = frames.find((f) => f.includes('"todo.updated"'))!;
    const run = agent.execute({ prompt: 'TODO please' });
    const { events } = await collectRun(run);
    sound(events);
    expect(ofType(events, 'plan.updated').map((e) => e.entries)).toEqual([
      [
        { content: 'first', status: 'in_progress', priority: 'high' },
        { content: 'second', status: 'pending', priority: 'low' },
      ],
    ]);
    expect(ofType(events, 'plan.updated')[0]!.raw).toEqual(JSON.parse(todo));
  });

  it('nests a subagent’s events under the task call (parentToolCallId) and counts its file changes (task-subagent.sse)', async () => {
    const { agent, sid } = replay('task-subagent');
    const run = agent.execute({ prompt: 'TASK please' });
    const { events, result } = await collectRun(run);
    sound(events);
    const task = ofType(events, 'tool.call').find((e) => e.name === 'task')!;
    expect(task.callId).toBe('call_fake_8_0');
    expect(task.parentToolCallId).toBeUndefined();
    const nested = events.filter((e) => e.parentToolCallId !== undefined);
    expect(new Set(nested.map((e) => e.parentToolCallId))).toEqual(new Set(['call_fake_8_0']));
    expect(nested.map((e) => e.type)).toEqual(
      expect.arrayContaining(['tool.call', 'tool.result', 'file.changed', 'message', 'usage']),
    );
    const childEdit = ofType(nested, 'tool.call').find((e) => e.name === 'edit')!;
    expect(childEdit.input).toMatchObject({ oldString: 'uno', newString: 'one' });
    const change = ofType(events, 'file.changed')[0]!;
    expect(change).toMatchObject({ path: 'a.txt', change: 'modified', parentToolCallId: 'call_fake_8_0' });
    expect(change.diff).toContain('-uno\n+one\n');
    // The subagent's work comes before the task's own result; the run ends with the parent's answer.
    const taskResult = events.findIndex((e) => e.type === 'tool.result' && e.callId === 'call_fake_8_0');
    expect(events.indexOf(childEdit)).toBeLessThan(taskResult);
    expect(result.status).toBe('completed');
    expect(result.sessionId).toBe(sid);
    expect(result.text).toMatch(/^Tool said:/);
    expect(result.filesChanged).toEqual([{ path: 'a.txt', change: 'modified' }]);
  });

  it('maps a non-empty session.diff to file.changed once per path and patch (entries as the server documents them)', async () => {
    const { sid, frames } = body('todo-write');
    const patch =
      'Index: /tmp/ocx/proj/c.txt\n===================================================================\n--- /tmp/ocx/proj/c.txt\n+++ /tmp/ocx/proj/c.txt\n@@ -1,1 +1,1 @@\n-x\n+y\n';
    const diff = {
      type: 'session.diff',
      properties: {
        sessionID: sid,
        diff: [{ file: '/tmp/ocx/proj/c.txt', patch, additions: 1, deletions: 1, status: 'modified' }],
      },
    };
    const idle = frames.findIndex((f) => f.includes('"session.idle"'));
    const { agent } = setup(
      {
        sessionIds: [sid],
        onPrompt: ({ server }) => server.send(...frames.slice(0, idle), diff, diff, ...frames.slice(idle)),
      },
      { directory: '/tmp/ocx/proj' },
    );
    const { events, result } = await collectRun(agent.execute({ prompt: 'TODO please' }));
    sound(events);
    const changes = ofType(events, 'file.changed');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ path: 'c.txt', change: 'modified' });
    expect(changes[0]!.diff).toContain('--- c.txt\n+++ c.txt\n@@ -1,1 +1,1 @@\n-x\n+y\n');
    expect(result.filesChanged).toEqual([{ path: 'c.txt', change: 'modified' }]);
  });

  it('nests a subagent’s question under the task call, and a cancel rejects it and aborts the session', async () => {
    const { sid, frames } = body('task-subagent');
    const child = 'ses_db0c3f8a4ffehjtzCAaNLKewkS';
    // Up to the task's first running update (which names the child session), then the child asks.
    const running = frames.findIndex((f) => f.includes('"status":"running"') && f.includes(child));
    const { fake, agent } = setup({
      sessionIds: [sid],
      onPrompt: ({ server }) => server.send(...frames.slice(0, running + 1), questionAsked(child, 'que_child')),
    });
    const run = agent.execute({ prompt: 'TASK please' });
    const asked = firstEvent(run, (e) => e.type === 'question.requested');
    expect(await asked.event).toMatchObject({ id: 'que_child', parentToolCallId: 'call_fake_8_0' });
    await run.cancel();
    sound(await asked.all);
    expect((await run.result).status).toBe('cancelled');
    const paths = fake.calls.map((c) => `${c.method} ${c.path}`);
    expect(paths).toContain('POST /question/que_child/reject');
    expect(paths).toContain(`POST /session/${sid}/abort`);
  });
});
