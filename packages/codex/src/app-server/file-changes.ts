import { isAbsolute, relative } from 'node:path';
import type { FileChange, FileChangeKind, PlanEntry } from '@forge/core';
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import type { FileUpdateChange } from '../gen/v2/FileUpdateChange.js';
import type { TurnPlanStep } from '../gen/v2/TurnPlanStep.js';

/** One `file.changed` event's body (without `type` and `toolCallId`). */
export interface FileChangedBody {
  path: string;
  change: FileChangeKind;
  diff: string;
  oldPath?: string;
}

/**
 * A completed `fileChange` item's change → `file.changed`. Codex gives absolute paths and, as `diff`, a unified diff's
 * hunks for an update (with a "Moved to: …" line after them for a move) but the whole content for an added or
 * deleted file: hunks get file headers, whole contents are diffed against nothing with jsdiff.
 */
export function fileChanged(change: FileUpdateChange, cwd: string | undefined): FileChangedBody {
  const path = shown(change.path, cwd);
  switch (change.kind.type) {
    case 'add':
      return { path, change: 'added', diff: patch('/dev/null', `b/${path}`, '', change.diff) };
    case 'delete':
      return { path, change: 'deleted', diff: patch(`a/${path}`, '/dev/null', change.diff, '') };
    default: {
      const moved = change.kind.move_path;
      const to = moved ? shown(moved, cwd) : path;
      const hunks = change.diff.replace(/\n*Moved to: [^\n]*$/, '\n').replace(/\n*$/, '\n');
      const diff = `--- a/${path}\n+++ b/${to}\n${hunks}`;
      return moved ? { path: to, change: 'renamed', oldPath: path, diff } : { path, change: 'modified', diff };
    }
  }
}

/** A path relative to the run's cwd where it lies inside it; as given otherwise. */
function shown(path: string, cwd: string | undefined): string {
  if (cwd === undefined || !isAbsolute(path)) return path;
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function patch(from: string, to: string, before: string, after: string): string {
  return createTwoFilesPatch(from, to, before, after, undefined, undefined, { headerOptions: FILE_HEADERS_ONLY });
}

/** The distinct paths a run changed, each with its last change (`AgentResult.filesChanged`). */
export class FilesChanged {
  private readonly byPath = new Map<string, FileChange>();

  add(body: FileChangedBody): void {
    this.byPath.delete(body.path);
    this.byPath.set(body.path, {
      path: body.path,
      change: body.change,
      ...(body.oldPath !== undefined ? { oldPath: body.oldPath } : {}),
    });
  }

  list(): FileChange[] {
    return [...this.byPath.values()];
  }
}

/** `turn/plan/updated`'s steps → `plan.updated` entries (Codex's plan has no ids or priorities). */
export function planEntries(plan: readonly TurnPlanStep[]): PlanEntry[] {
  return plan.map((s) => ({
    content: s.step,
    status: s.status === 'inProgress' ? 'in_progress' : s.status,
  }));
}
