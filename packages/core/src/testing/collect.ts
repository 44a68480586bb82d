import { eventShapeProblems } from './event-shapes.js';
import type { AgentRun } from '../agent.js';
import type { AgentEvent, AgentResult } from '../events.js';

/** Reads a whole run: its events in order and its result. */
export async function collectRun(run: AgentRun): Promise<{ events: AgentEvent[]; result: AgentResult }> {
  const events: AgentEvent[] = [];
  for await (const event of run) events.push(event);
  return { events, result: await run.result };
}

/** Resolves with the first event of a run that matches, reading on in the background. */
export function firstEvent(
  run: AgentRun,
  predicate: (e: AgentEvent) => boolean = () => true,
): {
  event: Promise<AgentEvent>;
  all: Promise<AgentEvent[]>;
} {
  let resolveEvent!: (e: AgentEvent) => void;
  let rejectEvent!: (e: Error) => void;
  const event = new Promise<AgentEvent>((res, rej) => {
    resolveEvent = res;
    rejectEvent = rej;
  });
  const all = (async () => {
    const events: AgentEvent[] = [];
    let found = false;
    for await (const e of run) {
      events.push(e);
      if (!found && predicate(e)) {
        found = true;
        resolveEvent(e);
      }
    }
    if (!found) rejectEvent(new Error('the run ended without a matching event'));
    return events;
  })();
  return { event, all };
}

/** Checks the invariants every run keeps; returns the problems found (empty when sound). */
export function runProblems(events: AgentEvent[], runId?: string): string[] {
  const problems: string[] = [];
  events.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`event ${i} has seq ${e.seq}, expected ${i + 1}`);
    if (runId !== undefined && e.runId !== runId) problems.push(`event ${i} has runId ${e.runId}, expected ${runId}`);
    if (typeof e.time !== 'number' || !Number.isFinite(e.time)) problems.push(`event ${i} has no numeric time`);
    problems.push(...eventShapeProblems(e));
  });
  const finals = events.filter((e) => e.type === 'run.completed');
  if (finals.length !== 1) problems.push(`expected exactly one run.completed, got ${finals.length}`);
  if (events.length && events[events.length - 1]!.type !== 'run.completed')
    problems.push('run.completed is not the last event');
  return problems;
}
