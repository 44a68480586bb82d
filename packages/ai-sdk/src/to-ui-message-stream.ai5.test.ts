import * as ai5 from 'ai5';
import { expect, it, vi } from 'vitest';
import { uiMessageStreamCases } from './test-support/ui-stream-cases.js';

// The same cases with `ai` 5.x in place of the `ai` this package imports: the peer range starts at 5.
vi.mock('ai', async () => await import('ai5'));

it('runs against ai 5', async () => {
  const imported = await import('ai');
  expect(imported.createUIMessageStream).toBe(ai5.createUIMessageStream);
  const { version } = await import('ai5/package.json', { with: { type: 'json' } });
  expect(version).toMatch(/^5\./);
});

uiMessageStreamCases(ai5);
