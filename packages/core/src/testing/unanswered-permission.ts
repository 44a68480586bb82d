import { expect } from 'vitest';
import type { AgentRun } from '../agent.js';
import type { AgentEvent, AgentEventOf, AgentResult } from '../events.js';
import { firstEvent, runProblems } from './collect.js';

/**
 * Plays a run whose agent asks one permission nobody answers (its request's `approvals.unanswered` denies after
 * `deadlineMs`) and checks what every adapter must do: the request resolves `deny` by `unanswered`, not before
 * the deadline, and the run goes on to complete, soundly. Its events and result, for the adapter's own checks.
 */
export async function expectUnansweredPermissionDenied(
  run: AgentRun,
  deadlineMs: number,
): Promise<{ events: AgentEvent[]; result: AgentResult }> {
  const reading = firstEvent(run, (e) => e.type === 'permission.requested');
  const asked = (await reading.event) as AgentEventOf<'permission.requested'>;
  const [events, result] = await Promise.all([reading.all, run.result]);
  expect(runProblems(events, run.id)).toEqual([]);
  const resolved = events.filter((e): e is AgentEventOf<'permission.resolved'> => e.type === 'permission.resolved');
  expect(resolved).toMatchObject([{ id: asked.id, decision: 'deny', by: 'unanswered' }]);
  expect(resolved[0]!.time - asked.time).toBeGreaterThanOrEqual(deadlineMs * 0.9);
  expect(result.status).toBe('completed');
  return { events, result };
}
