import { describe, expect, it } from 'vitest';
import { ApiError } from '../api-error.js';
import { requestTarget } from './request-target.js';

describe('requestTarget', () => {
  it.each([
    ['/api/v1/agents/agt_1?refresh=true', '/api/v1/agents/agt_1', 'true'],
    ['/api/v1/agents/', '/api/v1/agents/', null],
    ['/', '/', null],
    ['http://platform.example:8080/api/v1/agents?refresh=true', '/api/v1/agents', 'true'],
    ['/api/v1/agents/a%20b', '/api/v1/agents/a%20b', null],
    ['/api/v1/agents/...', '/api/v1/agents/...', null],
  ])('%s is routed as %s', (raw, pathname, refresh) => {
    const target = requestTarget(raw);
    expect(target.pathname).toBe(pathname);
    expect(target.url.pathname).toBe(pathname);
    expect(target.url.searchParams.get('refresh')).toBe(refresh);
  });

  it.each([
    '/api/v1/agents/x/..',
    '/api/v1/agents/x/.',
    '/api/v1/agents/x/%2e%2E',
    '/api/v1/agents/x/.%2e/y',
    '/api/v1/agents/x/%2E',
    '/api/v1//agents',
    '//api/v1/agents',
    '/api/v1/agents\\x',
    '/api/v1/agents/x%2Fy',
    '/api/v1/agents/x%5cy',
    '/api/v1/agents/%E0%A4%A',
    '/api/v1/agents/%ed%a0%80',
    'api/v1/agents',
    '*',
    'http://platform.example/api/v1/agents/x/..',
  ])('%s is 400 INVALID_PATH', (raw) => {
    let thrown: unknown;
    try {
      requestTarget(raw);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).status).toBe(400);
    expect((thrown as ApiError).code).toBe('INVALID_PATH');
  });
});
