import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

const FILES: Record<string, { name: string; type: string }> = {
  '/': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { name: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { name: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

// Scripts and styles only from this origin: a text that slipped into the page could not run.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const cache = new Map<string, Buffer>();
const read = (name: string) => {
  let body = cache.get(name);
  if (!body) cache.set(name, (body = readFileSync(new URL(`./${name}`, import.meta.url))));
  return body;
};

/** Serves the static dashboard; false when the path is not one of its files. */
export function serveDashboard(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  const file = FILES[pathname];
  if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const body = read(file.name);
  res.writeHead(200, {
    'content-type': file.type,
    'content-length': body.length,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
