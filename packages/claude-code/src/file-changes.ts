import { isAbsolute, relative } from 'node:path';
import type { AgentEventInit, FileChange, FileChangeKind } from '@forge/core';
import { MAX_DIFF_EDITS, wholeFilePatch } from '@forge/core/internal';
import { createTwoFilesPatch, FILE_HEADERS_ONLY, formatPatch, structuredPatch, type StructuredPatchHunk } from 'diff';

type Obj = Record<string, unknown>;

/** The CLI's tools that change a file, and the input field naming it. */
const FILE_TOOLS: Record<string, string> = {
  Write: 'file_path',
  Edit: 'file_path',
  MultiEdit: 'file_path',
  NotebookEdit: 'notebook_path',
};

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Follows the CLI's file tools through a run: a tool call is remembered, and when its result comes back without
 * an error, it becomes a `file.changed` with a unified diff (jsdiff). Where the tool result carries the CLI's own
 * hunks (`structuredPatch`, 2.1.197's Write and Edit) they are formatted as they are, which costs no diffing;
 * else the diff is computed from the file before (`originalFile`) and the tool's input. A Write is `added` or
 * `modified` as its result says (`type: "create" | "update"`). Paths inside the run's cwd are made relative.
 */
export class FileChangeTracker {
  private readonly calls = new Map<string, { name: string; input: Obj }>();
  private readonly changed = new Map<string, FileChange>();

  constructor(private readonly cwd: () => string | undefined) {}

  /** A tool call; kept only when it is a file tool. */
  call(callId: string, name: string, input: unknown): void {
    if (FILE_TOOLS[name] && input && typeof input === 'object') this.calls.set(callId, { name, input: input as Obj });
  }

  /**
   * A tool's result: `detail` is the CLI's structured detail of it (`tool_use_result`), `output` its text (all
   * there is for a subagent's tools, whose lines carry no detail).
   */
  result(callId: string, isError: boolean, detail: unknown, output: unknown, emit: (e: AgentEventInit) => void): void {
    const call = this.calls.get(callId);
    if (!call) return;
    this.calls.delete(callId);
    if (isError) return;
    const d = detail && typeof detail === 'object' ? (detail as Obj) : {};
    const absolute = str(d.filePath) ?? str(d.notebook_path) ?? str(call.input[FILE_TOOLS[call.name]!]);
    if (!absolute) return;
    const path = this.relative(absolute);
    const created =
      d.type === 'create' ||
      (d.type === undefined && (d.originalFile === null || /^File created successfully/.test(String(output))));
    const change: FileChangeKind = call.name === 'Write' && created ? 'added' : 'modified';
    const diff = buildDiff(call.name, call.input, d, path, change);
    const event: AgentEventInit = { type: 'file.changed', path, change, toolCallId: callId };
    if (diff !== undefined) event.diff = diff;
    // A file added and then edited in the same run is still new to whoever looks at the run.
    const before = this.changed.get(path);
    this.changed.delete(path);
    this.changed.set(path, { path, change: before?.change === 'added' ? 'added' : change });
    emit(event);
  }

  /** Every file changed so far, once per path, with its last change. */
  get filesChanged(): FileChange[] {
    return [...this.changed.values()];
  }

  private relative(path: string): string {
    const cwd = this.cwd();
    if (!cwd || !isAbsolute(path)) return path;
    const rel = relative(cwd, path);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  }
}

function buildDiff(tool: string, input: Obj, d: Obj, path: string, change: FileChangeKind): string | undefined {
  if (Array.isArray(d.structuredPatch) && d.structuredPatch.length > 0 && d.structuredPatch.every(isHunk)) {
    return formatPatch(
      { oldFileName: path, newFileName: path, oldHeader: undefined, newHeader: undefined, hunks: d.structuredPatch },
      FILE_HEADERS_ONLY,
    );
  }
  const original = str(d.originalFile);
  if (tool === 'Edit' && original !== undefined && input.replace_all !== true) {
    const windowed = editPatch(path, original, input);
    if (windowed !== undefined) return windowed;
  }
  const after = newContent(tool, input, d, original);
  if (after === undefined) return undefined;
  if (change === 'added') return patch('/dev/null', path, '', after);
  if (original !== undefined) return patch(path, path, original, after);
  // Only the replaced text is known: a diff of the snippet, without the file's line numbers.
  if (tool === 'Edit' && typeof input.old_string === 'string') return patch(path, path, input.old_string, after);
  return undefined;
}

function newContent(tool: string, input: Obj, d: Obj, original: string | undefined): string | undefined {
  switch (tool) {
    case 'Write':
      return str(d.content) ?? str(input.content);
    case 'Edit':
      if (original === undefined) return str(input.new_string);
      return applyEdit(original, input);
    case 'MultiEdit': {
      if (original === undefined || !Array.isArray(input.edits)) return undefined;
      let text: string | undefined = original;
      for (const e of input.edits as Obj[]) text = text === undefined ? undefined : applyEdit(text, e);
      return text;
    }
    case 'NotebookEdit':
      return str(d.updated_file);
    default:
      return undefined;
  }
}

function applyEdit(text: string, edit: Obj): string | undefined {
  const from = str(edit.old_string);
  const to = str(edit.new_string);
  if (from === undefined || to === undefined || !text.includes(from)) return undefined;
  return edit.replace_all === true ? text.split(from).join(to) : text.replace(from, () => to);
}

/** jsdiff's own default context, so a windowed diff is the whole-file diff. */
const CONTEXT = 4;

/**
 * The diff of one replacement in a large file, without diffing the whole file: jsdiff diffs only the lines the
 * replacement touches plus as many lines around them as a hunk shows as context, and the hunks are moved to
 * where those lines are in the file (the same diff as of the whole file; 0.23× → see bench/claude-code-diffs).
 */
function editPatch(path: string, original: string, input: Obj): string | undefined {
  const from = str(input.old_string);
  const to = str(input.new_string);
  if (from === undefined || to === undefined || from === '') return undefined;
  const at = original.indexOf(from);
  if (at < 0) return undefined;
  // From the start of the line the replacement begins in, CONTEXT lines up…
  let start = original.lastIndexOf('\n', at - 1) + 1;
  for (let i = 0; i < CONTEXT && start > 0; i++) start = original.lastIndexOf('\n', start - 2) + 1;
  // …to the end of the line just after it (its '\n' included; a replacement ending in '\n' joins the next line
  // when it starts mid-line), CONTEXT lines down.
  let nl = original.indexOf('\n', at + from.length);
  let end = nl === -1 ? original.length : nl + 1;
  for (let i = 0; i < CONTEXT && end < original.length; i++) {
    nl = original.indexOf('\n', end);
    end = nl === -1 ? original.length : nl + 1;
  }
  let line = 0;
  for (let n = original.indexOf('\n'); n !== -1 && n < start; n = original.indexOf('\n', n + 1)) line++;
  const before = original.slice(start, end);
  const after = before.slice(0, at - start) + to + before.slice(at - start + from.length);
  const result = structuredPatch(path, path, before, after, undefined, undefined, {
    context: CONTEXT,
    maxEditLength: MAX_DIFF_EDITS,
  });
  // A replacement past MAX_DIFF_EDITS is one hunk of the whole region: a minimal diff would hold the event loop.
  if (!result) return wholeFilePatch(path, path, before, after, line);
  for (const h of result.hunks) {
    h.oldStart += line;
    h.newStart += line;
  }
  return formatPatch(result, FILE_HEADERS_ONLY);
}

const patch = (oldName: string, newName: string, before: string, after: string) =>
  createTwoFilesPatch(oldName, newName, before, after, undefined, undefined, {
    headerOptions: FILE_HEADERS_ONLY,
    maxEditLength: MAX_DIFF_EDITS,
  }) ?? wholeFilePatch(oldName, newName, before, after);

function isHunk(h: unknown): h is StructuredPatchHunk {
  const o = h as Obj;
  return (
    typeof o?.oldStart === 'number' &&
    typeof o.oldLines === 'number' &&
    typeof o.newStart === 'number' &&
    typeof o.newLines === 'number' &&
    Array.isArray(o.lines)
  );
}
