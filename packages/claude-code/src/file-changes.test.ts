import type { AgentEventInit } from '@forge/core';
import { applyPatch, createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { describe, expect, it } from 'vitest';
import { FileChangeTracker } from './file-changes.js';

function run(name: string, input: Record<string, unknown>, detail: unknown, output = '') {
  const tracker = new FileChangeTracker(() => '/w');
  const out: AgentEventInit[] = [];
  tracker.call('t', name, input);
  tracker.result('t', false, detail, output, (e) => out.push(e));
  return out[0] as Extract<AgentEventInit, { type: 'file.changed' }> | undefined;
}

describe('FileChangeTracker', () => {
  it('MultiEdit without hunks: the edits applied in order to the file before, diffed', () => {
    const e = run(
      'MultiEdit',
      {
        file_path: '/w/m.txt',
        edits: [
          { old_string: 'a', new_string: 'A' },
          { old_string: 'c', new_string: 'C', replace_all: true },
        ],
      },
      { originalFile: 'a\nb\nc\nc\n' },
    );
    expect(e).toMatchObject({ path: 'm.txt', change: 'modified', toolCallId: 't' });
    expect(e!.diff).toBe('--- m.txt\n+++ m.txt\n@@ -1,4 +1,4 @@\n-a\n+A\n b\n-c\n-c\n+C\n+C\n');
  });

  it('NotebookEdit: the notebook before and after, where the result has them; else no diff', () => {
    const e = run(
      'NotebookEdit',
      { notebook_path: '/w/n.ipynb', new_source: 'x' },
      {
        original_file: '{"cells":[]}\n',
        updated_file: '{"cells":[1]}\n',
      },
    );
    expect(e).toMatchObject({ path: 'n.ipynb', change: 'modified' });
    expect(run('NotebookEdit', { notebook_path: '/w/n.ipynb' }, {})!.diff).toBeUndefined();
  });

  it('Edit with only the tool input: a diff of the replaced text; a failed tool is no change', () => {
    expect(run('Edit', { file_path: '/w/e.txt', old_string: 'x\n', new_string: 'y\n' }, undefined)!.diff).toBe(
      '--- e.txt\n+++ e.txt\n@@ -1,1 +1,1 @@\n-x\n+y\n',
    );
    const tracker = new FileChangeTracker(() => '/w');
    const out: AgentEventInit[] = [];
    tracker.call('t', 'Write', { file_path: '/w/a', content: 'a' });
    tracker.result('t', true, 'Error: denied', '', (e) => out.push(e));
    expect(out).toEqual([]);
    expect(tracker.filesChanged).toEqual([]);
  });

  it('an Edit rewriting a long run of lines is one hunk of the region, not a minimal diff found on the event loop', () => {
    // 3,000 lines, every other one changed: a minimal diff is 3,000 edits, past the cap (Myers' diff costs about
    // their square). The hunk replaces the whole region, placed where it is in the file, and still applies.
    const head = 'keep 1\nkeep 2\nkeep 3\nkeep 4\nkeep 5\nkeep 6\n';
    const from = Array.from({ length: 3_000 }, (_, i) => `line ${i}`).join('\n');
    const to = Array.from({ length: 3_000 }, (_, i) => (i % 2 ? `line ${i} changed` : `line ${i}`)).join('\n');
    const original = `${head}${from}\ntail\n`;
    const e = run('Edit', { file_path: '/w/big.txt', old_string: from, new_string: to }, { originalFile: original });
    const lines = e!.diff!.split('\n');
    expect(lines[2]).toBe('@@ -3,3005 +3,3005 @@'); // four lines of context before, the one line after
    expect(lines.filter((l) => l.startsWith('-') && !l.startsWith('---'))).toHaveLength(3_005);
    expect(applyPatch(original, e!.diff!)).toBe(`${head}${to}\ntail\n`);
  });

  it('Edit without hunks: diffing only around the replacement gives the same diff as diffing the whole file', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 1000; round++) {
      const count = 1 + rand(40);
      const lines = Array.from({ length: count }, (_, i) => `line ${i} of ${round}`);
      const original = lines.join('\n') + (rand(2) ? '\n' : '');
      // A run of whole or partial lines, replaced by 0–3 new lines.
      const a = rand(original.length);
      const b = Math.min(original.length, a + 1 + rand(30));
      const oldString = original.slice(a, b);
      if (original.indexOf(oldString) !== a) continue;
      const newString = Array.from({ length: rand(4) }, (_, i) => `new ${i}`).join('\n');
      const after = original.slice(0, a) + newString + original.slice(b);
      const e = run(
        'Edit',
        { file_path: '/w/f.txt', old_string: oldString, new_string: newString },
        { originalFile: original },
      );
      const whole = createTwoFilesPatch('f.txt', 'f.txt', original, after, undefined, undefined, {
        headerOptions: FILE_HEADERS_ONLY,
      });
      expect(e!.diff, JSON.stringify({ original, oldString, newString })).toBe(whole);
    }
  });
});
