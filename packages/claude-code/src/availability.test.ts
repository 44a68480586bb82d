import { fakeProcessRunner } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { claudeCode } from './agent.js';

/** Issue 16: capabilities() with a missing binary resolved as if all were well. */
describe('claudeCode capabilities: availability', () => {
  it('says available: false, and why, when the CLI cannot start', async () => {
    const runner = fakeProcessRunner({ spawnError: 'not found (is it installed and on PATH?)' });
    const caps = await claudeCode({ runner, bin: 'claude-missing' }).capabilities();
    expect(caps.available).toBe(false);
    expect(caps.unavailableReason).toContain('claude-missing');
    expect(caps.unavailableReason).toContain('not found');
  });

  it('says available: true when the CLI answers --version', async () => {
    const runner = fakeProcessRunner({ stdout: ['2.1.197 (Claude Code)\n'] });
    const caps = await claudeCode({ runner }).capabilities();
    expect(caps).toMatchObject({ available: true, version: '2.1.197' });
    expect(caps.unavailableReason).toBeUndefined();
  });
});
