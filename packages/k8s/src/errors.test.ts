import { ForgeError } from '@forge/core';
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubernetesError, isKubernetesError, toKubernetesError } from './errors.js';

describe('toKubernetesError', () => {
  const api = (code: number, body: unknown) => new ApiException(code, `HTTP-Code: ${code}`, body, {});

  it.each([
    [404, 'NotFound', 'K8S_NOT_FOUND', 'not_found', false],
    [409, 'AlreadyExists', 'K8S_ALREADY_EXISTS', 'conflict', false],
    [409, 'Conflict', 'K8S_CONFLICT', 'conflict', true],
    [403, 'Forbidden', 'K8S_FORBIDDEN', 'internal', false],
    [401, 'Unauthorized', 'K8S_UNAUTHORIZED', 'internal', false],
    [422, 'Invalid', 'K8S_INVALID', 'validation', false],
    [429, 'TooManyRequests', 'K8S_UNAVAILABLE', 'transport', true],
    [503, 'ServiceUnavailable', 'K8S_UNAVAILABLE', 'transport', true],
    [418, 'Teapot', 'K8S_ERROR', 'internal', false],
  ])('maps HTTP %i %s to %s', (status, reason, code, category, retryable) => {
    const error = toKubernetesError(
      api(status, JSON.stringify({ kind: 'Status', reason, message: `the ${reason} message` })),
      'getPod',
      'forge-a-b',
    );
    expect(error).toBeInstanceOf(KubernetesError);
    expect(error).toBeInstanceOf(ForgeError);
    expect(error).toMatchObject({
      code,
      category,
      retryable,
      operation: 'getPod',
      podName: 'forge-a-b',
      status,
      reason,
    });
    expect(error.message).toContain(`the ${reason} message`);
    expect(error.toJSON().details).toMatchObject({ source: 'kubernetes', operation: 'getPod', podName: 'forge-a-b' });
  });

  it('reads a parsed body as well as a string one', () => {
    expect(toKubernetesError(api(404, { reason: 'NotFound', message: 'gone' }), 'getPod').message).toContain('gone');
    expect(toKubernetesError(api(500, 'plain text'), 'getPod').message).toContain('plain text');
  });

  it('maps connection failures to retryable K8S_UNAVAILABLE', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    expect(toKubernetesError(refused, 'listPods')).toMatchObject({ code: 'K8S_UNAVAILABLE', retryable: true });
    const wrapped = new Error('request failed', { cause: refused });
    expect(toKubernetesError(wrapped, 'listPods').code).toBe('K8S_UNAVAILABLE');
    expect(toKubernetesError(new Error('weird'), 'listPods')).toMatchObject({ code: 'K8S_ERROR', retryable: false });
  });

  it('passes KubernetesErrors through and tells them apart', () => {
    const e = new KubernetesError('POD_DELETED', 'x', { operation: 'waitForPodReady' });
    expect(toKubernetesError(e, 'other')).toBe(e);
    expect(isKubernetesError(e)).toBe(true);
    expect(isKubernetesError(e, 'POD_DELETED')).toBe(true);
    expect(isKubernetesError(e, 'K8S_NOT_FOUND')).toBe(false);
    expect(isKubernetesError(new ForgeError('X', 'y'))).toBe(false);
  });
});
