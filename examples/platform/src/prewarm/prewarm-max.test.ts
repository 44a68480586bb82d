import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { defaultPrewarmMax } from './prewarm-max.js';

const GIB = 1024 ** 3;

describe('FORGE_PREWARM_MAX', () => {
  it('defaults to one spare per core, at most one per GiB and 8', () => {
    expect(defaultPrewarmMax(2, 8 * GIB)).toBe(2);
    expect(defaultPrewarmMax(16, 64 * GIB)).toBe(8);
    expect(defaultPrewarmMax(4, 1.5 * GIB)).toBe(1);
    expect(defaultPrewarmMax(4, 0.5 * GIB)).toBe(0);
    expect(loadConfig([], {}).prewarmMax).toBe(defaultPrewarmMax());
  });

  it('is read from the environment; 0 turns spares off; bad values are refused with the variable named', () => {
    expect(loadConfig([], { FORGE_PREWARM_MAX: '0' }).prewarmMax).toBe(0);
    expect(loadConfig([], { FORGE_PREWARM_MAX: '5', FORGE_PREWARM_IDLE_MS: '60000' })).toMatchObject({
      prewarmMax: 5,
      prewarmIdleMs: 60_000,
    });
    expect(loadConfig([], {}).prewarmIdleMs).toBe(300_000);
    expect(() => loadConfig([], { FORGE_PREWARM_MAX: '-1' })).toThrow(/FORGE_PREWARM_MAX/);
    expect(() => loadConfig([], { FORGE_PREWARM_IDLE_MS: '0' })).toThrow(/FORGE_PREWARM_IDLE_MS/);
  });
});
