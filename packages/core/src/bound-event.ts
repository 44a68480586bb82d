import { boundValue } from './bounded-value.js';
import type { AgentEvent } from './events.js';

/**
 * Cuts what no consumer could serialise (see bounded-value.ts) in the fields that carry provider data, so every
 * consumer gets every event. Text events carry only strings and skip the walk.
 */
export function boundEvent(event: AgentEvent): void {
  if (event.raw !== undefined) {
    const raw = boundValue(event.raw);
    if (raw !== event.raw) event.raw = raw;
  }
  switch (event.type) {
    case 'tool.call':
    case 'permission.requested': {
      const input = boundValue(event.input);
      if (input !== event.input) event.input = input;
      break;
    }
    case 'tool.result': {
      const output = boundValue(event.output);
      if (output !== event.output) event.output = output;
      break;
    }
    case 'error':
      if (event.details) event.details = boundValue(event.details) as Record<string, unknown>;
      break;
  }
}
