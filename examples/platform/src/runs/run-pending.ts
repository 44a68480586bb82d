import type { AgentEvent } from '@forge/core';
import type { RunRecord } from '@forge/store';
import type { RunContext } from './run-context.js';

/** A permission request or question that waits for an answer: the event that asked it, as journaled. */
export type PendingEvent = Extract<AgentEvent, { type: 'permission.requested' | 'question.requested' }>;

/**
 * What the run waits for now: from the run itself when it executes here (`run.pending()`), else from its journal —
 * every request asked and not yet resolved (`permission.resolved` / `question.resolved`, which core journals for
 * each answer, a host's or a rule's). Nothing for a run that is not running.
 */
export async function pendingOf(ctx: RunContext, run: RunRecord): Promise<PendingEvent[]> {
  if (run.status !== 'running') return [];
  const live = ctx.live.get(run.requestId);
  if (live && !live.settled) return live.run.pending() as PendingEvent[];
  const asked = new Map<string, PendingEvent>();
  for (let after = 0; ; ) {
    const page = await ctx.store.runs.events(run.requestId, after);
    for (const row of page) {
      if (!/^(permission|question)\.(requested|resolved)$/.test(row.type)) continue;
      const event = JSON.parse(row.body) as AgentEvent;
      if (event.type === 'permission.requested' || event.type === 'question.requested') asked.set(event.id, event);
      else if (event.type === 'permission.resolved' || event.type === 'question.resolved') asked.delete(event.id);
    }
    if (!page.length) break;
    after = page.at(-1)!.seq;
  }
  return [...asked.values()];
}
