import { boundMeeting, boundValue, metLast } from './bounded-value.js';
import type { AgentEvent } from './events.js';

/**
 * Cuts what no consumer could serialise (see bounded-value.ts) in the fields that carry provider data, so every
 * consumer gets every event. One per run. Text events carry only strings and skip the walk. Each value is walked
 * once:
 * - a tool event's `raw` (the provider's message) usually holds its `input` or `output` object, which the walk of
 *   `raw` then meets and has already checked;
 * - an adapter that makes several events of one provider line gives each the same `raw` (Claude Code: a message's
 *   blocks and its usage): the line found within the bounds for the first is not walked again for the next ones,
 *   nor the part met in it.
 * What is remembered is the last line only, by identity, within one run: an adapter that changed a line between two
 * of its events would have to make it deeper in between, in its own synchronous mapping code.
 */
export class EventBound {
  /** The last `raw` walked whole and found within the bounds, and the part of its event met inside it. */
  #raw: object | undefined;
  #part: unknown;

  bound(event: AgentEvent): void {
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
    const raw = event.raw;
    if (raw !== null && typeof raw === 'object') {
      if (raw === this.#raw) partChecked = part === this.#part;
      else {
        const bounded = boundMeeting(raw, part);
        if (bounded !== raw) {
          event.raw = bounded;
          this.#raw = undefined;
        } else {
          partChecked = metLast();
          this.#raw = raw;
          this.#part = partChecked ? part : undefined;
        }
      }
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
}
