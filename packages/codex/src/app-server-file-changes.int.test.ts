import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { drive, ofType, useRealAppServer } from './test-support/real-app-server.js';

/** The model's apply_patch (Codex intercepts it in `exec_command`) as the heredoc Codex's own prompt teaches. */
const applyPatch = (body: string) => `apply_patch <<'EOF'\n*** Begin Patch\n${body}*** End Patch\nEOF\n`;

/** `fileChange` items → `file.changed` and `filesChanged`, and file-change approvals, on the real CLI (0.171.0). */
describe('codex app-server with the real CLI: file changes', () => {
  const h = useRealAppServer();

  it('an applied patch: file.changed per file (added, modified, renamed, deleted) with diffs, and filesChanged', async () => {
    await writeFile(join(h.scratch, 'keep.txt'), 'one\ntwo\n');
    await writeFile(join(h.scratch, 'old-name.txt'), 'hello\nworld\n');
    await writeFile(join(h.scratch, 'gone.txt'), 'bye\n');
    const patch = applyPatch(
      [
        '*** Add File: new.txt\n+fresh\n',
        '*** Update File: keep.txt\n@@\n one\n-two\n+TWO\n',
        '*** Update File: old-name.txt\n*** Move to: new-name.txt\n@@\n-hello\n+hi\n world\n',
        '*** Delete File: gone.txt\n',
      ].join(''),
    );
    h.respond((req) => (req.hasToolOutput ? { text: 'Patched.' } : { shell: patch }));
    const run = h.agent({ permissionMode: 'bypassPermissions' }).execute({ prompt: 'patch it', timeoutMs: 60_000 });
    const { events, result } = await drive(run);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'Patched.' });
    const changed = ofType(events, 'file.changed');
    const byPath = Object.fromEntries(changed.map((e) => [e.path, e]));
    expect(byPath['new.txt']).toMatchObject({
      change: 'added',
      diff: '--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,1 @@\n+fresh\n',
    });
    expect(byPath['keep.txt']).toMatchObject({ change: 'modified' });
    expect(byPath['keep.txt']!.diff).toMatch(
      /^--- a\/keep\.txt\n\+\+\+ b\/keep\.txt\n@@ [^\n]+ @@\n one\n-two\n\+TWO\n$/,
    );
    expect(byPath['new-name.txt']).toMatchObject({ change: 'renamed', oldPath: 'old-name.txt' });
    expect(byPath['new-name.txt']!.diff).toContain('--- a/old-name.txt\n+++ b/new-name.txt\n');
    expect(byPath['gone.txt']).toMatchObject({
      change: 'deleted',
      diff: '--- a/gone.txt\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-bye\n',
    });
    const call = ofType(events, 'tool.call').find((c) => c.name === 'file_change')!;
    for (const e of changed) expect(e.toolCallId).toBe(call.callId);
    expect(result.filesChanged).toEqual(
      expect.arrayContaining([
        { path: 'new.txt', change: 'added' },
        { path: 'keep.txt', change: 'modified' },
        { path: 'new-name.txt', change: 'renamed', oldPath: 'old-name.txt' },
        { path: 'gone.txt', change: 'deleted' },
      ]),
    );
    expect(result.filesChanged).toHaveLength(4);
    expect(await readFile(join(h.scratch, 'keep.txt'), 'utf8')).toBe('one\nTWO\n');
  });

  it.each([
    ['allow', true],
    ['deny', false],
  ] as const)('a file-change approval (item/fileChange/requestApproval, Edit): %s', async (decision, applied) => {
    const name = `approved-${decision}.txt`;
    h.respond((req) =>
      req.hasToolOutput
        ? { text: `After the patch: ${req.toolOutput.trim()}` }
        : { shell: applyPatch(`*** Add File: ${name}\n+x\n`) },
    );
    const run = h.agent().execute({ prompt: 'write it', timeoutMs: 60_000 });
    const { events, result } = await drive(run, async (e) => {
      if (e.type === 'permission.requested') await run.respond(e.id, decision);
    });
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result.status).toBe('completed');
    const asked = ofType(events, 'permission.requested');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ tool: 'Edit', input: { changes: [{ kind: { type: 'add' } }] } });
    expect(String((asked[0]!.input as { changes: Array<{ path: string }> }).changes[0]!.path)).toContain(name);
    const fileResult = ofType(events, 'tool.result').find(
      (r) => r.callId === ofType(events, 'tool.call').find((c) => c.name === 'file_change')?.callId,
    );
    expect(fileResult?.isError).toBe(!applied);
    expect(ofType(events, 'file.changed').map((e) => e.path)).toEqual(applied ? [name] : []);
    expect(result.filesChanged).toEqual(applied ? [{ path: name, change: 'added' }] : undefined);
    const onDisk = await readFile(join(h.scratch, name), 'utf8').catch(() => undefined);
    expect(onDisk).toBe(applied ? 'x\n' : undefined);
  });
});
