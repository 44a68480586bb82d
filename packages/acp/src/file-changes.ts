import { isAbsolute, relative, sep } from 'node:path';
import type { AgentEventInit, FileChange, FileChangeKind } from '@forge/core';
import { MAX_DIFF_EDITS, wholeFilePatch } from '@forge/core/internal';
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';

type FileChanged = Extract<AgentEventInit, { type: 'file.changed' }>;

/** A tool call's `{ type: 'diff' }` content, as the agent sent it. */
export interface AcpDiff {
  path: string;
  /** Null or absent for a new file. */
  oldText?: string | null;
  newText: string;
  _meta?: Record<string, unknown> | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The diff items of a tool call's `content`. */
export function diffContent(content: unknown): AcpDiff[] {
  if (!Array.isArray(content)) return [];
  return content.filter(
    (c): c is AcpDiff =>
      isObject(c) &&
      c.type === 'diff' &&
      typeof c.path === 'string' &&
      c.path !== '' &&
      typeof c.newText === 'string' &&
      (c.oldText === undefined || c.oldText === null || typeof c.oldText === 'string'),
  );
}

/** Gemini says what a diff is in `_meta.kind` (`add` for a new file, whose `oldText` it sends as ""). */
function changeKind(d: AcpDiff): FileChangeKind {
  const kind = isObject(d._meta) ? d._meta.kind : undefined;
  if (kind === 'add') return 'added';
  if (kind === 'delete') return 'deleted';
  if (kind === 'modify' || kind === 'edit') return 'modified';
  return d.oldText === undefined || d.oldText === null ? 'added' : 'modified';
}

/**
 * The files a run changed, from the `diff` content of its tool calls: each becomes a `file.changed` with a
 * unified diff made by the `diff` package (jsdiff) — git's layout (`--- a/p`, `+++ b/p`, `/dev/null` for an
 * added or deleted side) — with the path relative to the session's cwd where it lies inside it.
 */
export class FileChangeLog {
  private readonly last = new Map<string, FileChange>();

  constructor(private readonly cwd: string | undefined) {}

  /** Every changed path once, with its last change (`AgentResult.filesChanged`). */
  list(): FileChange[] {
    return [...this.last.values()];
  }

  /** The `file.changed` event of one diff a tool call made (call it once the call has completed). */
  changed(d: AcpDiff, toolCallId: string): FileChanged {
    const path = this.relative(d.path);
    const change = changeKind(d);
    const before = change === 'added' ? '' : (d.oldText ?? '');
    const after = change === 'deleted' ? '' : d.newText;
    const oldName = change === 'added' ? '/dev/null' : `a/${path}`;
    const newName = change === 'deleted' ? '/dev/null' : `b/${path}`;
    // A rewrite past MAX_DIFF_EDITS is one whole-file hunk: a minimal diff of it would hold the event loop for seconds.
    const diff =
      createTwoFilesPatch(oldName, newName, before, after, undefined, undefined, {
        headerOptions: FILE_HEADERS_ONLY,
        maxEditLength: MAX_DIFF_EDITS,
      }) ?? wholeFilePatch(oldName, newName, before, after);
    this.last.delete(path);
    this.last.set(path, { path, change });
    return { type: 'file.changed', path, change, diff, toolCallId };
  }

  private relative(path: string): string {
    if (!this.cwd || !isAbsolute(path)) return path;
    const rel = relative(this.cwd, path);
    return rel && rel.split(sep)[0] !== '..' && !isAbsolute(rel) ? rel : path;
  }
}
