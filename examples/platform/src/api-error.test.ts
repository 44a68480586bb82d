import {
  ForgeError,
  NotFoundError,
  ProviderError,
  TransportError,
  UnsupportedError,
  ValidationError,
} from '@forge/core';
import { describe, expect, it } from 'vitest';
import { ApiError, errorResponse } from './api-error.js';

describe('errorResponse', () => {
  it('maps core error categories to statuses', () => {
    expect(
      errorResponse(
        new ValidationError('PROMPT_REQUIRED', 'empty', [{ path: 'prompt', code: 'PROMPT_REQUIRED', message: 'm' }]),
      ),
    ).toMatchObject({
      status: 400,
      body: { error: { code: 'PROMPT_REQUIRED', message: 'empty', details: { issues: [{ path: 'prompt' }] } } },
    });
    expect(errorResponse(new NotFoundError('X', 'gone')).status).toBe(404);
    expect(errorResponse(new ForgeError('RUN_EXISTS', 'dup', 'conflict')).status).toBe(409);
    expect(errorResponse(new UnsupportedError('p', 'replies')).status).toBe(400);
    expect(errorResponse(new ProviderError('CLI_FAILED', 'boom')).status).toBe(502);
    expect(errorResponse(new TransportError('UNAVAILABLE', 'down')).status).toBe(503);
  });

  it('keeps internal details from the client', () => {
    const internal = errorResponse(new Error('secret path /root/x'));
    expect(internal).toMatchObject({
      status: 500,
      internal: true,
      body: { error: { code: 'INTERNAL_ERROR', message: 'Internal error' } },
    });
    expect(errorResponse(new ForgeError('BUG', 'detail', 'internal')).body.error.message).toBe('Internal error');
  });

  it('passes ApiErrors through with their headers', () => {
    expect(errorResponse(new ApiError(429, 'RATE_LIMITED', 'slow down', { 'retry-after': '3' }))).toMatchObject({
      status: 429,
      headers: { 'retry-after': '3' },
      internal: false,
    });
  });
});
