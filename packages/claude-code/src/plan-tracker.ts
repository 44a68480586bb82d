import type { PlanEntry, PlanEntryStatus } from '@forge/core';

type Obj = Record<string, unknown>;

const PLAN_TOOLS = new Set(['TaskCreate', 'TaskUpdate', 'TaskList', 'TodoWrite']);
const STATUSES = new Set<PlanEntryStatus>(['pending', 'in_progress', 'completed']);

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : v === undefined ? undefined : String(v));
const status = (v: unknown): PlanEntryStatus | undefined =>
  STATUSES.has(v as PlanEntryStatus) ? (v as PlanEntryStatus) : undefined;

/**
 * The agent's plan through a run, from the CLI's planning tools: 2.1.197 plans with `TaskCreate` (input
 * `{subject, description, activeForm}`, result `{task: {id}}`), `TaskUpdate` (`{taskId, status?, subject?}`;
 * status `deleted` removes the task) and `TaskList` (result `{tasks: [{id, subject, status}]}`, the whole list);
 * earlier versions with `TodoWrite` (`{todos: [{content, status}]}`, the whole list). After each such tool
 * succeeds, `result` gives the whole current plan when it changed.
 */
export class PlanTracker {
  private readonly calls = new Map<string, { name: string; input: Obj }>();
  private entries: PlanEntry[] = [];
  private last = '[]';

  call(callId: string, name: string, input: unknown): void {
    if (PLAN_TOOLS.has(name))
      this.calls.set(callId, { name, input: input && typeof input === 'object' ? (input as Obj) : {} });
  }

  /** The whole plan after a planning tool's result, or undefined when it did not change. */
  result(callId: string, isError: boolean, detail: unknown): PlanEntry[] | undefined {
    const call = this.calls.get(callId);
    if (!call) return undefined;
    this.calls.delete(callId);
    if (isError) return undefined;
    const d = detail && typeof detail === 'object' ? (detail as Obj) : {};
    const { name, input } = call;
    if (name === 'TodoWrite' && Array.isArray(input.todos)) {
      this.entries = (input.todos as Obj[]).map((t) => entry(str(t.id), str(t.content) ?? '', status(t.status), t));
    } else if (name === 'TaskList' && Array.isArray(d.tasks)) {
      this.entries = (d.tasks as Obj[]).map((t) => entry(str(t.id), str(t.subject) ?? '', status(t.status), t));
    } else if (name === 'TaskCreate') {
      const id = str((d.task as Obj | undefined)?.id);
      this.entries = [...this.entries, entry(id, str(input.subject) ?? '', 'pending', input)];
    } else if (name === 'TaskUpdate') {
      const id = str(input.taskId ?? d.taskId);
      const to = (d.statusChange as Obj | undefined)?.to ?? input.status;
      if (to === 'deleted') this.entries = this.entries.filter((e) => e.id !== id);
      else {
        const found = this.entries.some((e) => e.id === id);
        const base = found ? undefined : entry(id, str(input.subject) ?? `Task ${id ?? ''}`.trim(), 'pending', input);
        this.entries = [...this.entries, ...(base ? [base] : [])].map((e) =>
          e.id === id ? { ...e, content: str(input.subject) ?? e.content, status: status(to) ?? e.status } : e,
        );
      }
    } else return undefined;
    const now = JSON.stringify(this.entries);
    if (now === this.last) return undefined;
    this.last = now;
    return this.entries.map((e) => ({ ...e }));
  }
}

function entry(id: string | undefined, content: string, s: PlanEntryStatus | undefined, from: Obj): PlanEntry {
  const e: PlanEntry = { content, status: s ?? 'pending' };
  if (id !== undefined) e.id = id;
  if (from.priority === 'low' || from.priority === 'medium' || from.priority === 'high') e.priority = from.priority;
  return e;
}
