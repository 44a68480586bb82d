import { boundValue, boundValueMeeting } from './bounded-value.js';
import type { AgentEvent } from './events.js';

/**
 * Cuts what no consumer could serialise (see bounded-value.ts) in the fields that carry provider data, so every
 * consumer gets every event. Text events carry only strings and skip the walk. Each value is walked once: a tool
 * event's `raw` (the provider's message) usually holds its `input` or `output` object, which the walk of `raw`
 * then meets and has already checked.
 */
export function boundEvent(event: AgentEvent): void {
  let part: unknown;
  switch (event.type) {
    case 'tool.call':
    case 'permission.requested':
      part = event.input;
      break;
    case 'tool.result':
      part = event.output;
      break;
    case 'error':
      part = event.details;
      break;
  }
  let partChecked = false;
  if (event.raw !== undefined) {
    const { value: raw, metPart } = boundValueMeeting(event.raw, part);
    if (raw !== event.raw) event.raw = raw;
    partChecked = metPart;
  }
  if (partChecked || part === null || typeof part !== 'object') return;
  const bounded = boundValue(part);
  if (bounded === part) return;
  switch (event.type) {
    case 'tool.call':
    case 'permission.requested':
      event.input = bounded;
      break;
    case 'tool.result':
      event.output = bounded;
      break;
    case 'error':
      event.details = bounded as Record<string, unknown>;
      break;
  }
}
