import type { AgentEvent } from '@forge/core';

/** A run's events reduced to what a host sees, independent of ordering details. */
export function project(events: AgentEvent[]) {
  const deltas: Record<string, string> = {};
  const out = {
    deltas,
    messages: [] as string[],
    toolCalls: [] as Array<{ callId: string; name: string; input: unknown }>,
    toolResults: [] as Array<{ callId: string; output: unknown; isError: boolean }>,
    permissions: [] as string[],
    usage: [] as string[],
    errors: [] as string[],
  };
  for (const e of events) {
    if (e.type === 'text.delta') deltas[e.messageId ?? ''] = (deltas[e.messageId ?? ''] ?? '') + e.text;
    else if (e.type === 'message') out.messages.push(e.text);
    else if (e.type === 'tool.call') out.toolCalls.push({ callId: e.callId, name: e.name, input: e.input });
    else if (e.type === 'tool.result') out.toolResults.push({ callId: e.callId, output: e.output, isError: e.isError });
    else if (e.type === 'permission.requested') out.permissions.push(e.id);
    else if (e.type === 'usage') out.usage.push(e.messageId ?? '');
    else if (e.type === 'error') out.errors.push(e.code);
  }
  return out;
}
