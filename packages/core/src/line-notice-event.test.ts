import { describe, expect, it } from 'vitest';
import { lineNoticeEvent } from './line-notice-event.js';

describe('lineNoticeEvent', () => {
  it('makes a stray text line a stdout warning', () => {
    expect(lineNoticeEvent({ kind: 'text', text: 'npm warn x' }, 'JSONL')).toEqual({
      type: 'log',
      text: 'npm warn x',
      level: 'warn',
      stream: 'stdout',
    });
  });

  it('makes an oversize line a LINE_TOO_LONG error naming the format, size and preview', () => {
    expect(lineNoticeEvent({ kind: 'oversize', bytes: 99, preview: '{"a' }, 'stream-json')).toEqual({
      type: 'error',
      code: 'LINE_TOO_LONG',
      message: 'A stream-json line of 99 bytes exceeded the line cap and was skipped',
      retryable: false,
      details: { bytes: 99, preview: '{"a' },
    });
  });
});
