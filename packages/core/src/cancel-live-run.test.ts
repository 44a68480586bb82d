import { describe, expect, it, vi } from 'vitest';
import { cancelLiveRun } from './cancel-live-run.js';

describe('cancelLiveRun', () => {
  it('cancels a live run and says so', async () => {
    const run = { cancel: vi.fn(async () => {}) };
    expect(await cancelLiveRun(new Map([['run_1', run]]), 'run_1')).toBe(true);
    expect(run.cancel).toHaveBeenCalledOnce();
  });

  it('answers false for a run that is not live', async () => {
    expect(await cancelLiveRun(new Map(), 'run_1')).toBe(false);
  });
});
