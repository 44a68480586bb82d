import { isAbsolute, relative } from 'node:path';
import { createTwoFilesPatch, formatPatch, parsePatch } from 'diff';
import type { AgentEventInit, FileChange, FileChangeKind, PlanEntry } from '@forge/core';
import type { Part } from './schemas.js';

type FileChanged = Extract<AgentEventInit, { type: 'file.changed' }>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The files a run changed, as OpenCode reports them: its `edit` and `write` tools (when they completed) and its
 * `session.diff` events. Diffs are the `diff` package's (jsdiff) — the same library OpenCode itself uses — with
 * paths relative to the run's directory; a `write` over an existing file carries no diff, since OpenCode keeps
 * no copy of what it replaced in the event.
 */
export class FileChangeLog {
  /** The run's directory; paths inside it are made relative to it. */
  cwd: string | undefined;
  private readonly last = new Map<string, FileChange>();
  /** The diff last reported per path, so a `session.diff` repeating what a tool reported adds nothing. */
  private readonly diffs = new Map<string, string | undefined>();

  constructor(cwd?: string) {
    this.cwd = cwd;
  }

  /** Every changed path once, with its last change. */
  list(): FileChange[] {
    return [...this.last.values()];
  }

  /** The `file.changed` events of a completed `edit` / `write` / `apply_patch` tool part. */
  fromToolPart(part: Part): FileChanged[] {
    const state = part.state;
    if (state?.status !== 'completed') return [];
    const meta = isObj(state.metadata) ? state.metadata : {};
    const callId = part.callID ?? part.id;
    if (part.tool === 'apply_patch' || part.tool === 'patch') return this.fromPatchFiles(meta.files, callId);
    const one = this.fromFileTool(part, callId);
    return one ? [one] : [];
  }

  private fromFileTool(part: Part, callId: string): FileChanged | undefined {
    const state = part.state!;
    const input = isObj(state.input) ? state.input : {};
    const meta = isObj(state.metadata) ? state.metadata : {};
    const absolute = str(input.filePath) ?? str(meta.filepath);
    if (!absolute) return undefined;
    const path = this.relative(absolute);
    if (part.tool === 'write') {
      const content = str(input.content);
      // `exists` is whether the file was there before the write.
      if (meta.exists === false && content !== undefined) {
        return this.record({
          path,
          change: 'added',
          diff: createTwoFilesPatch(path, path, '', content),
          toolCallId: callId,
        });
      }
      return this.record({ path, change: 'modified', toolCallId: callId });
    }
    if (part.tool === 'edit') {
      const filediff = isObj(meta.filediff) ? meta.filediff : {};
      const before = str(filediff.before);
      const after = str(filediff.after);
      if (before !== undefined && after !== undefined) {
        const change: FileChangeKind = before === '' ? 'added' : 'modified';
        return this.record({ path, change, diff: createTwoFilesPatch(path, path, before, after), toolCallId: callId });
      }
      const patch = str(meta.diff) ?? str(filediff.patch);
      const diff = patch === undefined ? undefined : this.renamePatch(patch, path);
      return this.record({
        path,
        change: diff?.added ? 'added' : 'modified',
        ...(diff ? { diff: diff.text } : {}),
        toolCallId: callId,
      });
    }
    return undefined;
  }

  /**
   * The `apply_patch` tool (OpenCode gives it to GPT models instead of edit/write) lists its files in
   * `metadata.files`: `{ filePath, movePath?, type: add | update | delete | move, patch }` — the shape its 1.18.33
   * binary builds, not yet seen in a recording.
   */
  private fromPatchFiles(files: unknown, callId: string): FileChanged[] {
    if (!Array.isArray(files)) return [];
    const out: FileChanged[] = [];
    for (const file of files) {
      if (!isObj(file)) continue;
      const from = str(file.filePath);
      if (!from) continue;
      const to = str(file.movePath);
      const path = this.relative(to ?? from);
      const kind = str(file.type);
      const change: FileChangeKind =
        kind === 'add' ? 'added' : kind === 'delete' ? 'deleted' : kind === 'move' || to ? 'renamed' : 'modified';
      const patch = str(file.patch);
      const diff = patch ? this.renamePatch(patch, path)?.text : undefined;
      out.push(
        this.record({
          path,
          change,
          ...(change === 'renamed' ? { oldPath: this.relative(from) } : {}),
          ...(diff ? { diff } : {}),
          toolCallId: callId,
        }),
      );
    }
    return out;
  }

  /** `session.diff` entries not already reported with the same patch. */
  fromSessionDiff(entries: unknown[]): FileChanged[] {
    const out: FileChanged[] = [];
    for (const entry of entries) {
      if (!isObj(entry)) continue;
      const file = str(entry.file) ?? str(entry.path);
      if (!file) continue;
      const path = this.relative(file);
      const patch = str(entry.patch);
      const diff = patch ? this.renamePatch(patch, path)?.text : undefined;
      if (this.last.has(path) && this.diffs.get(path) === diff) continue;
      const status = str(entry.status);
      const change: FileChangeKind = status === 'added' || status === 'deleted' ? status : 'modified';
      out.push(this.record({ path, change, ...(diff ? { diff } : {}) }));
    }
    return out;
  }

  private record(event: Omit<FileChanged, 'type'>): FileChanged {
    this.last.set(event.path, {
      path: event.path,
      change: event.change,
      ...(event.oldPath ? { oldPath: event.oldPath } : {}),
    });
    this.diffs.set(event.path, event.diff);
    return { type: 'file.changed', ...event };
  }

  private relative(path: string): string {
    if (!this.cwd || !isAbsolute(path)) return path;
    const rel = relative(this.cwd, path);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  }

  /** OpenCode's own unified diff (absolute paths in its headers), re-emitted by jsdiff with the relative path. */
  private renamePatch(patch: string, path: string): { text: string; added: boolean } | undefined {
    let parsed: ReturnType<typeof parsePatch>;
    try {
      parsed = parsePatch(patch);
    } catch {
      return undefined;
    }
    const one = parsed[0];
    if (parsed.length !== 1 || !one || one.hunks.length === 0) return undefined;
    one.oldFileName = path;
    one.newFileName = path;
    // parsePatch reads a missing header as '', which formatPatch would write back as a trailing tab.
    if (!one.oldHeader) one.oldHeader = undefined;
    if (!one.newHeader) one.newHeader = undefined;
    const added = one.hunks.every((h) => h.oldLines === 0);
    return { text: formatPatch(one), added };
  }
}

const PLAN_STATUSES = new Set(['pending', 'in_progress', 'completed']);
const PRIORITIES = new Set(['low', 'medium', 'high']);

/**
 * OpenCode's todo list as the plan. A `cancelled` todo is no longer part of the plan, so it is left out (Forge's
 * plan has no such status); any other unknown status reads as `pending`.
 */
export function planEntries(todos: readonly unknown[]): PlanEntry[] {
  const entries: PlanEntry[] = [];
  for (const todo of todos) {
    if (!isObj(todo) || typeof todo.content !== 'string') continue;
    const status = str(todo.status) ?? 'pending';
    if (status === 'cancelled') continue;
    const priority = str(todo.priority);
    entries.push({
      ...(typeof todo.id === 'string' ? { id: todo.id } : {}),
      content: todo.content,
      status: (PLAN_STATUSES.has(status) ? status : 'pending') as PlanEntry['status'],
      ...(priority && PRIORITIES.has(priority) ? { priority: priority as PlanEntry['priority'] } : {}),
    });
  }
  return entries;
}
