import type { AgentEventInit } from './events.js';
import type { JsonLineOversize, JsonLineText } from './json-lines.js';

/**
 * The event for a stdout line a CLI adapter's mapper cannot map: text the CLI printed (a warning log) or a line
 * over the cap (a LINE_TOO_LONG error, with its size and first characters). `format` names the stream in the
 * message (`stream-json`, `JSONL`).
 */
export function lineNoticeEvent(item: JsonLineText | JsonLineOversize, format: string): AgentEventInit {
  if (item.kind === 'text') return { type: 'log', text: item.text, level: 'warn', stream: 'stdout' };
  return {
    type: 'error',
    code: 'LINE_TOO_LONG',
    message: `A ${format} line of ${item.bytes} bytes exceeded the line cap and was skipped`,
    retryable: false,
    details: { bytes: item.bytes, preview: item.preview },
  };
}
