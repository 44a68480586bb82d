import { describe, expect, it } from 'vitest';
import { CoreErrorCode } from './error-codes.js';
import { describeError, ForgeError, isForgeError, NotFoundError, RunExistsError, ValidationError } from './errors.js';

/** What a ForgeError made by a second copy of @forge/core (another version, or CJS beside ESM) looks like. */
function fromAnotherCopy() {
  const mark = Symbol.for('@forge/core.ForgeError');
  class ForgeError extends Error {
    code = 'X';
    category = 'validation';
    retryable = false;
  }
  Object.defineProperty(ForgeError.prototype, mark, { value: true });
  class ValidationError extends ForgeError {}
  return new ValidationError('bad input');
}

describe('ForgeError', () => {
  it('is recognised across copies of the package, by isForgeError and instanceof', () => {
    const foreign = fromAnotherCopy();
    expect(isForgeError(foreign)).toBe(true);
    expect(foreign instanceof ForgeError).toBe(true);
    expect(foreign instanceof ValidationError).toBe(true);
    expect(foreign instanceof NotFoundError).toBe(false);
    expect(new Error('plain') instanceof ForgeError).toBe(false);
    expect(isForgeError({ code: 'X' })).toBe(false);
    expect(new NotFoundError('N', 'n') instanceof ForgeError).toBe(true);
    expect(new NotFoundError('N', 'n') instanceof ValidationError).toBe(false);
  });

  it('from(): keeps a ForgeError as it is and wraps anything else with the fallback, keeping the cause', () => {
    const own = new RunExistsError('r1');
    expect(ForgeError.from(own, 'OTHER')).toBe(own);
    expect(own).toMatchObject({ code: CoreErrorCode.RUN_EXISTS, category: 'conflict', details: { runId: 'r1' } });

    const cause = new TypeError('socket hang up');
    const wrapped = ForgeError.from(cause, { code: 'TRANSPORT_BROKEN', category: 'transport', retryable: true });
    expect(wrapped).toMatchObject({
      code: 'TRANSPORT_BROKEN',
      category: 'transport',
      retryable: true,
      message: 'socket hang up',
    });
    expect(wrapped.cause).toBe(cause);

    expect(ForgeError.from('boom').toJSON()).toMatchObject({
      code: 'INTERNAL_ERROR',
      category: 'internal',
      message: 'boom',
    });
    expect(ForgeError.from(undefined, { code: 'E', message: 'nothing was thrown' }).message).toBe('nothing was thrown');
    expect(ForgeError.from(new Error(''), { code: 'E', message: 'fallback text' }).message).toBe('fallback text');
  });

  it('describeError() reads foreign copies too', () => {
    expect(describeError(fromAnotherCopy())).toEqual({ code: 'X', message: 'bad input', retryable: false });
    expect(describeError(new Error('x'), 'FALLBACK')).toEqual({ code: 'FALLBACK', message: 'x', retryable: false });
  });
});
