import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const { requireBearerToken } = await import('./auth.js');
const { AgentService } = await import('./gen/forge/agent/v1/agent_pb.js');

/** Runs the interceptor on a request carrying `authorization`; true when it let the call through. */
async function passes(token: string, authorization: string): Promise<boolean> {
  const next = vi.fn(async () => ({}) as never);
  const req = { service: { typeName: AgentService.typeName }, header: new Headers({ authorization }) } as never;
  try {
    await requireBearerToken(token)(next)(req);
    return true;
  } catch {
    return false;
  }
}

describe('requireBearerToken', () => {
  it('accepts the token and refuses others', async () => {
    expect(await passes('s3cret-token', 'Bearer s3cret-token')).toBe(true);
    expect(await passes('s3cret-token', 'Bearer s3cret-tokeN')).toBe(false);
    expect(await passes('s3cret-token', 'Bearer s3cret')).toBe(false);
    expect(await passes('s3cret-token', 'Basic s3cret-token')).toBe(false);
  });

  it('compares fixed-size digests, so a wrong length takes the same path as a wrong token', async () => {
    const compare = vi.mocked(crypto.timingSafeEqual);
    for (const presented of ['x', 's3cret-token-but-much-longer', 'é'.repeat(6)]) {
      compare.mockClear();
      expect(await passes('s3cret-token', `Bearer ${presented}`)).toBe(false);
      expect(compare).toHaveBeenCalledTimes(1);
      const [a, b] = compare.mock.calls[0]! as [Buffer, Buffer];
      expect([a.byteLength, b.byteLength]).toEqual([32, 32]);
    }
  });
});
