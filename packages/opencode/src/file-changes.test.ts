import { describe, expect, it } from 'vitest';
import { FileChangeLog, planEntries } from './file-changes.js';
import type { Part } from './schemas.js';

const tool = (tool: string, input: unknown, metadata: unknown, status = 'completed'): Part => ({
  id: 'prt_1',
  messageID: 'msg_1',
  sessionID: 'ses_1',
  type: 'tool',
  callID: `call_${tool}`,
  tool,
  state: { status, input, metadata },
});

describe('FileChangeLog', () => {
  it('diffs an edit whose metadata has the whole before and after (newer servers) with jsdiff', () => {
    const log = new FileChangeLog('/p');
    const [event] = log.fromToolPart(
      tool('edit', { filePath: '/p/a.txt' }, { filediff: { file: '/p/a.txt', before: 'x\ny\n', after: 'x\nz\n' } }),
    );
    expect(event).toMatchObject({ type: 'file.changed', path: 'a.txt', change: 'modified', toolCallId: 'call_edit' });
    expect(event!.diff).toContain('--- a.txt\n+++ a.txt\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n');
  });

  it('reads an edit that created its file as added, and keeps no diff it cannot parse', () => {
    const log = new FileChangeLog('/p');
    const [created] = log.fromToolPart(
      tool('edit', { filePath: '/p/n.txt' }, { diff: '--- /p/n.txt\n+++ /p/n.txt\n@@ -0,0 +1,1 @@\n+hi\n' }),
    );
    expect(created).toMatchObject({ path: 'n.txt', change: 'added' });
    expect(created!.diff).toContain('--- n.txt\n+++ n.txt\n');
    const [garbled] = log.fromToolPart(tool('edit', { filePath: '/p/m.txt' }, { diff: 'not a patch' }));
    expect(garbled).toMatchObject({ path: 'm.txt', change: 'modified' });
    expect(garbled!.diff).toBeUndefined();
  });

  it('reports a write over an existing file as modified without a diff, and nothing for unfinished or other tools', () => {
    const log = new FileChangeLog('/p');
    expect(log.fromToolPart(tool('write', { filePath: '/p/a.txt', content: 'new' }, { exists: true }))).toEqual([
      { type: 'file.changed', path: 'a.txt', change: 'modified', toolCallId: 'call_write' },
    ]);
    expect(
      log.fromToolPart(tool('write', { filePath: '/p/b.txt', content: 'x' }, { exists: false }, 'running')),
    ).toEqual([]);
    expect(log.fromToolPart(tool('write', { filePath: '/p/b.txt', content: 'x' }, { exists: false }, 'error'))).toEqual(
      [],
    );
    expect(log.fromToolPart(tool('bash', { command: 'touch c' }, {}))).toEqual([]);
    expect(log.list()).toEqual([{ path: 'a.txt', change: 'modified' }]);
  });

  it('keeps the last change per path, and paths outside the cwd absolute', () => {
    const log = new FileChangeLog('/p');
    log.fromToolPart(tool('write', { filePath: '/p/a.txt', content: 'a\n' }, { exists: false }));
    log.fromToolPart(tool('write', { filePath: '/p/a.txt', content: 'b\n' }, { exists: true }));
    log.fromToolPart(tool('write', { filePath: '/other/x.txt', content: 'b\n' }, { exists: true }));
    expect(log.list()).toEqual([
      { path: 'a.txt', change: 'modified' },
      { path: '/other/x.txt', change: 'modified' },
    ]);
  });

  it('reads apply_patch files (add, update, delete, move) with their patches, as the 1.18.33 binary builds them', () => {
    const log = new FileChangeLog('/p');
    const patch = (f: string) => `Index: ${f}\n===\n--- ${f}\n+++ ${f}\n@@ -1,1 +1,1 @@\n-a\n+b\n`;
    const events = log.fromToolPart(
      tool(
        'apply_patch',
        { patchText: '*** Begin Patch …' },
        {
          files: [
            { filePath: '/p/new.ts', type: 'add', patch: patch('/p/new.ts') },
            { filePath: '/p/old.ts', type: 'update', patch: patch('/p/old.ts') },
            { filePath: '/p/gone.ts', type: 'delete' },
            { filePath: '/p/a.ts', movePath: '/p/b.ts', type: 'move', patch: patch('/p/b.ts') },
          ],
        },
      ),
    );
    expect(events.map(({ path, change, oldPath }) => ({ path, change, oldPath }))).toEqual([
      { path: 'new.ts', change: 'added', oldPath: undefined },
      { path: 'old.ts', change: 'modified', oldPath: undefined },
      { path: 'gone.ts', change: 'deleted', oldPath: undefined },
      { path: 'b.ts', change: 'renamed', oldPath: 'a.ts' },
    ]);
    expect(events[1]!.diff).toContain('--- old.ts\n+++ old.ts\n@@ -1,1 +1,1 @@\n-a\n+b\n');
    expect(events[2]!.diff).toBeUndefined();
    expect(log.list()).toContainEqual({ path: 'b.ts', change: 'renamed', oldPath: 'a.ts' });
  });

  it('takes session.diff entries by status, once per path and patch', () => {
    const log = new FileChangeLog('/p');
    const entries = [
      { file: '/p/gone.txt', status: 'deleted', additions: 0, deletions: 1 },
      { file: '/p/new.txt', status: 'added', additions: 1, deletions: 0 },
    ];
    expect(log.fromSessionDiff(entries).map((e) => [e.path, e.change])).toEqual([
      ['gone.txt', 'deleted'],
      ['new.txt', 'added'],
    ]);
    expect(log.fromSessionDiff(entries)).toEqual([]);
    expect(log.fromSessionDiff([null, 'x', { status: 'added' }])).toEqual([]);
  });
});

describe('planEntries', () => {
  it('keeps content, status and priority; leaves cancelled todos out; reads unknown statuses as pending', () => {
    expect(
      planEntries([
        { content: 'a', status: 'completed', priority: 'high' },
        { content: 'b', status: 'cancelled', priority: 'low' },
        { id: 't3', content: 'c', status: 'blocked', priority: 'urgent' },
        { status: 'pending' },
      ]),
    ).toEqual([
      { content: 'a', status: 'completed', priority: 'high' },
      { id: 't3', content: 'c', status: 'pending' },
    ]);
  });
});
