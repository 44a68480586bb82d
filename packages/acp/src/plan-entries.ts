import type { PlanEntry } from '@forge/core';

const STATUSES = new Set<PlanEntry['status']>(['pending', 'in_progress', 'completed']);
const PRIORITIES = new Set<NonNullable<PlanEntry['priority']>>(['low', 'medium', 'high']);

/**
 * A `plan` session update's entries as `plan.updated` entries. ACP sends the whole plan each time, as Forge
 * does; its statuses and priorities are Forge's. An entry without text is left out; a status this adapter
 * does not know reads `pending` (the raw update keeps what the agent said).
 */
export function planEntries(entries: unknown): PlanEntry[] {
  if (!Array.isArray(entries)) return [];
  const out: PlanEntry[] = [];
  for (const e of entries) {
    if (typeof e !== 'object' || e === null) continue;
    const { content, status, priority } = e as Record<string, unknown>;
    if (typeof content !== 'string' || !content.trim()) continue;
    const entry: PlanEntry = {
      content,
      status: STATUSES.has(status as PlanEntry['status']) ? (status as PlanEntry['status']) : 'pending',
    };
    if (PRIORITIES.has(priority as NonNullable<PlanEntry['priority']>)) {
      entry.priority = priority as NonNullable<PlanEntry['priority']>;
    }
    out.push(entry);
  }
  return out;
}
