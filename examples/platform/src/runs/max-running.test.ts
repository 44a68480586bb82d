import { describe, expect, it } from 'vitest';
import { defaultMaxRunning, RUNS_PER_CORE } from './max-running.js';

describe('defaultMaxRunning', () => {
  it('is a multiple of the cores, at least one core’s worth', () => {
    expect(defaultMaxRunning(2)).toBe(2 * RUNS_PER_CORE);
    expect(defaultMaxRunning(0)).toBe(RUNS_PER_CORE);
    expect(defaultMaxRunning()).toBeGreaterThanOrEqual(RUNS_PER_CORE);
  });
});
