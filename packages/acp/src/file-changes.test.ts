import type { AgentEvent, CodeAgent } from '@forge/core';
import { collectRun, runProblems } from '@forge/core/testing';
import { wholeFilePatch } from '@forge/core/internal';
import { applyPatch, createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { afterEach, describe, expect, it } from 'vitest';
import { acpAgent } from './agent.js';
import { FileChangeLog } from './file-changes.js';
import { scriptedAcpRunner } from './test-support/scripted-acp.js';

const agents: CodeAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.close?.();
});

const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);

function make() {
  const agent = acpAgent({ command: 'scripted-acp', runner: scriptedAcpRunner(), cwd: '/work', closeGraceMs: 50 });
  agents.push(agent);
  return agent;
}

describe('tool-call diff content → file.changed', () => {
  it('reports each diff once its tool call has completed, with a unified diff and the path relative to cwd', async () => {
    const { events, result } = await collectRun(make().execute({ prompt: 'edit' }));
    expect(runProblems(events)).toEqual([]);
    const changed = ofType(events, 'file.changed');
    expect(changed.map(({ path, change, toolCallId }) => ({ path, change, toolCallId }))).toEqual([
      // claude-code-acp's way: the diff only in the proposal; oldText null is a new file.
      { path: 'src/new.ts', change: 'added', toolCallId: 'call_e' },
      { path: 'README.md', change: 'modified', toolCallId: 'call_e' },
      // Gemini's way: oldText "" with _meta.kind add; outside the cwd the path stays absolute.
      { path: '/elsewhere/x.txt', change: 'added', toolCallId: 'call_g' },
    ]);
    expect(changed[1]!.diff).toBe('--- a/README.md\n+++ b/README.md\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n');
    expect(changed[0]!.diff).toBe('--- /dev/null\n+++ b/src/new.ts\n@@ -0,0 +1,1 @@\n+export const a = 1;\n');
    // The diffs are real patches: applied to the old text they give the new one.
    expect(applyPatch('one\ntwo\n', changed[1]!.diff!)).toBe('one\nthree\n');
    // After the call's result, in the same order as the agent's updates.
    const types = events.map((e) => e.type);
    expect(types.indexOf('file.changed')).toBeGreaterThan(types.indexOf('tool.result'));
    expect(changed[0]!.raw).toMatchObject({ params: { update: { toolCallId: 'call_e', status: 'completed' } } });
    expect(result.filesChanged).toEqual([
      { path: 'src/new.ts', change: 'added' },
      { path: 'README.md', change: 'modified' },
      { path: '/elsewhere/x.txt', change: 'added' },
    ]);
  });

  it('reports nothing for a tool call that failed (a proposal rejected or an edit that did not apply)', async () => {
    const { events, result } = await collectRun(make().execute({ prompt: 'editfail' }));
    expect(runProblems(events)).toEqual([]);
    expect(ofType(events, 'tool.result').map((r) => r.isError)).toEqual([true, true]);
    expect(ofType(events, 'file.changed')).toEqual([]);
    expect(result.filesChanged).toBeUndefined();
  });
});

describe('FileChangeLog', () => {
  it('keeps each path once with its last change; deleted files diff to /dev/null', () => {
    const log = new FileChangeLog('/w');
    log.changed({ path: '/w/a.txt', oldText: null, newText: 'a\n' }, 'c1');
    log.changed({ path: '/w/b.txt', oldText: 'b\n', newText: 'bb\n' }, 'c2');
    const gone = log.changed({ path: '/w/a.txt', oldText: 'a\n', newText: '', _meta: { kind: 'delete' } }, 'c3');
    expect(gone).toMatchObject({ path: 'a.txt', change: 'deleted', toolCallId: 'c3' });
    expect(gone.diff).toBe('--- a/a.txt\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-a\n');
    expect(log.list()).toEqual([
      { path: 'b.txt', change: 'modified' },
      { path: 'a.txt', change: 'deleted' },
    ]);
  });

  it('leaves paths outside the cwd (a sibling with the same prefix, ..) absolute, and relative ones as they are', () => {
    const log = new FileChangeLog('/w');
    const at = (path: string) => log.changed({ path, oldText: 'x', newText: 'y' }, 'c').path;
    expect(at('/w-other/a')).toBe('/w-other/a');
    expect(at('/w/../etc/a')).toBe('/w/../etc/a');
    expect(at('/w/..dots/a')).toBe('..dots/a');
    expect(at('rel/a')).toBe('rel/a');
  });
});

describe('a file rewritten at length', () => {
  it('is reported as one whole-file hunk, not a minimal diff found on the event loop', () => {
    // 3,000 lines, every other one changed: a minimal diff is 3,000 edits (Myers' diff ~ their square; 10,000
    // rewritten lines took 13-14 s of CPU), over the cap, so the change is all old lines out, all new lines in.
    // Failed first: without the cap the diff was the minimal one (1,500 removed lines among context).
    const before = Array.from({ length: 3_000 }, (_, i) => `line ${i}`).join('\n');
    const after = Array.from({ length: 3_000 }, (_, i) => (i % 2 ? `line ${i} changed` : `line ${i}`)).join('\n');
    const event = new FileChangeLog('/work').changed({ path: '/work/big.txt', oldText: before, newText: after }, 'c1');
    const lines = event.diff!.split('\n');
    expect(lines.slice(0, 3)).toEqual(['--- a/big.txt', '+++ b/big.txt', '@@ -1,3000 +1,3000 @@']);
    expect(lines.filter((l) => l.startsWith('-') && !l.startsWith('---'))).toHaveLength(3_000);
    expect(applyPatch(before, event.diff!)).toBe(after);
  });

  it('whole-file hunks are written as jsdiff writes a diff of texts with no line in common', () => {
    const cases: Array<[string, string, string, string]> = [
      ['a/x', 'b/x', 'a\nb\n', 'c\nd\n'],
      ['a/x', 'b/x', 'a\nb', 'c\nd'],
      ['a/x', 'b/x', 'a\nb\n', 'c\nd'],
      ['a/x', 'b/x', 'a\nb', 'c\nd\n'],
      ['/dev/null', 'b/x', '', 'x\ny\n'],
      ['a/x', '/dev/null', 'x\ny\n', ''],
      ['a/x', 'b/x', 'same\n', 'same\n'],
      ['a/x', 'b/x', 'r1\r\nr2\r\n', 's1\r\n'],
      ['a/x', 'b/x', '\n', 'z'],
    ];
    for (const [o, n, a, b] of cases)
      expect(wholeFilePatch(o, n, a, b), JSON.stringify([a, b])).toBe(
        createTwoFilesPatch(o, n, a, b, undefined, undefined, { headerOptions: FILE_HEADERS_ONLY }),
      );
  });
});
