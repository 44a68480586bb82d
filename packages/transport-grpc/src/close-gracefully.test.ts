import { describe, expect, it, vi } from 'vitest';
import { closeGracefully } from './close-gracefully.js';

describe('closeGracefully', () => {
  it('asks first, and forces what is still open once the grace period is over', async () => {
    let closedNow!: () => void;
    const closed = new Promise<void>((resolve) => (closedNow = resolve));
    const ask = vi.fn();
    const force = vi.fn(() => closedNow());
    await closeGracefully(closed, 5, ask, force);
    expect(ask).toHaveBeenCalledOnce();
    expect(force).toHaveBeenCalledOnce();
  });

  it('does not force a server that closed within the grace period', async () => {
    const force = vi.fn();
    await closeGracefully(Promise.resolve(), 5, () => {}, force);
    await new Promise((r) => setTimeout(r, 20));
    expect(force).not.toHaveBeenCalled();
  });
});
