import { readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { serveDashboard } from './serve.js';

function get(pathname: string, method = 'GET') {
  const sent: { status?: number; headers?: Record<string, unknown>; body?: Buffer } = {};
  const res = {
    writeHead(status: number, headers: Record<string, unknown>) {
      Object.assign(sent, { status, headers });
      return res;
    },
    end(body?: Buffer) {
      sent.body = body;
    },
  };
  const served = serveDashboard({ method } as IncomingMessage, res as unknown as ServerResponse, pathname);
  return { served, ...sent };
}

const modules = readdirSync(new URL('./', import.meta.url)).filter((n) => n.endsWith('.js'));

describe('serveDashboard', () => {
  it('serves the page, the stylesheet and every module of the folder as JavaScript, under the page’s CSP', () => {
    expect(modules).toContain('dashboard.js');
    expect(modules.length).toBeGreaterThan(5);
    for (const name of modules) {
      const r = get(`/${name}`);
      expect([name, r.served, r.status, r.headers?.['content-type']]).toEqual([
        name,
        true,
        200,
        'text/javascript; charset=utf-8',
      ]);
      expect(r.headers?.['x-content-type-options']).toBe('nosniff');
    }
    expect(get('/').headers?.['content-type']).toMatch(/^text\/html/);
    expect(get('/index.html').body?.toString()).toContain('<script type="module" src="/dashboard.js">');
    expect(get('/dashboard.css').headers?.['content-type']).toMatch(/^text\/css/);
    expect(get('/dom.js', 'HEAD')).toMatchObject({ served: true, status: 200, body: undefined });
  });

  it('serves nothing else: not its own source or tests, not another folder, not by another method', () => {
    for (const path of [
      '/serve.ts',
      '/serve.test.ts',
      '/dashboard.int.test.ts',
      '/../app.ts',
      '/..%2fapp.ts',
      '/%2e%2e/app.ts',
      '/dashboard/dom.js',
      '//dom.js',
      '/dom.js/',
      '/DOM.js',
      '/package.json',
      '/nope.js',
    ])
      expect([path, get(path).served]).toEqual([path, false]);
    expect(get('/dom.js', 'POST').served).toBe(false);
  });
});
