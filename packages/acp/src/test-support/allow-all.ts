import type { AgentEvent, AgentRun } from '@forge/core';

/** A 1×1 PNG, the smallest real image a test can attach. */
export const TINY_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** Reads the whole run, allowing every permission request as it comes (the agent asks before an MCP tool runs). */
export async function allowAll(run: AgentRun): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const event of run) {
    events.push(event);
    if (event.type === 'permission.requested') await run.respond(event.id, 'allow');
  }
  return events;
}
