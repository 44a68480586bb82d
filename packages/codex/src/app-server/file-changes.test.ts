import type { AgentEventInit } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { FilesChanged, fileChanged, planEntries } from './file-changes.js';
import { TurnMapper } from './turn-mapper.js';

// What Codex 0.171.0 put in `fileChange` items for an apply_patch that added, updated + moved, and deleted files
// (recorded against the fake Responses API).
const ADD = { path: '/w/hello.txt', kind: { type: 'add' as const }, diff: 'hello\nworld\n' };
const DELETE = { path: '/w/gone.txt', kind: { type: 'delete' as const }, diff: 'bye\n' };
const MOVE = {
  path: '/w/hello.txt',
  kind: { type: 'update' as const, move_path: '/w/moved.txt' },
  diff: '@@ -1,2 +1,2 @@\n-hello\n+hi\n world\n\n\nMoved to: /w/moved.txt',
};
const UPDATE = {
  path: '/w/src/a.ts',
  kind: { type: 'update' as const, move_path: null },
  diff: '@@ -1 +1 @@\n-a\n+b\n',
};

describe('fileChanged', () => {
  it('an added file: the whole content diffed against nothing (jsdiff), path relative to the cwd', () => {
    expect(fileChanged(ADD, '/w')).toEqual({
      path: 'hello.txt',
      change: 'added',
      diff: '--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n',
    });
  });

  it('a deleted file: its old content against nothing', () => {
    expect(fileChanged(DELETE, '/w')).toEqual({
      path: 'gone.txt',
      change: 'deleted',
      diff: '--- a/gone.txt\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-bye\n',
    });
  });

  it("an update: Codex's hunks with file headers; a move is a rename with oldPath, its trailer dropped", () => {
    expect(fileChanged(UPDATE, '/w')).toEqual({
      path: 'src/a.ts',
      change: 'modified',
      diff: '--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-a\n+b\n',
    });
    expect(fileChanged(MOVE, '/w')).toEqual({
      path: 'moved.txt',
      oldPath: 'hello.txt',
      change: 'renamed',
      diff: '--- a/hello.txt\n+++ b/moved.txt\n@@ -1,2 +1,2 @@\n-hello\n+hi\n world\n',
    });
  });

  it('a path outside the cwd (or with no cwd) stays absolute', () => {
    expect(fileChanged({ ...ADD, path: '/etc/x' }, '/w').path).toBe('/etc/x');
    expect(fileChanged(ADD, undefined).path).toBe('/w/hello.txt');
  });
});

describe('FilesChanged', () => {
  it('each path once, with its last change', () => {
    const files = new FilesChanged();
    files.add(fileChanged(ADD, '/w'));
    files.add(fileChanged(UPDATE, '/w'));
    files.add(fileChanged({ ...UPDATE, path: '/w/hello.txt' }, '/w'));
    expect(files.list()).toEqual([
      { path: 'src/a.ts', change: 'modified' },
      { path: 'hello.txt', change: 'modified' },
    ]);
  });
});

describe('plan', () => {
  it('turn/plan/updated → plan.updated with the whole plan, statuses in core terms', () => {
    expect(
      planEntries([
        { step: 'Read', status: 'completed' },
        { step: 'Write', status: 'inProgress' },
        { step: 'Test', status: 'pending' },
      ]),
    ).toEqual([
      { content: 'Read', status: 'completed' },
      { content: 'Write', status: 'in_progress' },
      { content: 'Test', status: 'pending' },
    ]);
  });
});

describe('TurnMapper: file changes and the plan', () => {
  const run = (items: Array<[string, Record<string, unknown>]>) => {
    const m = new TurnMapper('t1', '/w');
    const out: AgentEventInit[] = [];
    for (const [method, params] of items) m.map(method, { turnId: 't1', ...params }, (e) => out.push(e));
    m.map('turn/completed', { turn: { id: 't1', status: 'completed', items: [], error: null } }, () => undefined);
    return { out, outcome: m.outcome('th')! };
  };
  const fileItem = (status: string) => ({ item: { type: 'fileChange', id: 'fc1', changes: [ADD, MOVE], status } });

  it('file.changed once the patch is applied (item completed), with the tool call id; filesChanged in the result', () => {
    const { out, outcome } = run([
      ['item/started', fileItem('inProgress')],
      ['item/completed', fileItem('completed')],
    ]);
    const changed = out.filter((e) => e.type === 'file.changed');
    expect(changed).toMatchObject([
      { type: 'file.changed', path: 'hello.txt', change: 'added', toolCallId: 'fc1' },
      { type: 'file.changed', path: 'moved.txt', oldPath: 'hello.txt', change: 'renamed', toolCallId: 'fc1' },
    ]);
    // After the tool's result, as a change that was made.
    expect(out.findIndex((e) => e.type === 'tool.result')).toBeLessThan(
      out.findIndex((e) => e.type === 'file.changed'),
    );
    expect(outcome.filesChanged).toEqual([
      { path: 'hello.txt', change: 'added' },
      { path: 'moved.txt', change: 'renamed', oldPath: 'hello.txt' },
    ]);
  });

  it.each(['declined', 'failed'])('a %s patch changed nothing: no file.changed, no filesChanged', (status) => {
    const { out, outcome } = run([['item/completed', fileItem(status)]]);
    expect(out.filter((e) => e.type === 'file.changed')).toEqual([]);
    expect(outcome.filesChanged).toBeUndefined();
  });

  it('turn/plan/updated → plan.updated', () => {
    const { out } = run([['turn/plan/updated', { explanation: null, plan: [{ step: 'Read', status: 'inProgress' }] }]]);
    expect(out).toMatchObject([{ type: 'plan.updated', entries: [{ content: 'Read', status: 'in_progress' }] }]);
  });
});
