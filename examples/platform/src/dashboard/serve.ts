import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { vendorFiles } from './vendor-files.js';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  // ES modules must come as JavaScript: a browser refuses a module of any other type (nosniff).
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

const folder = new URL('./', import.meta.url);

/**
 * The dashboard's files, by URL path: the page, and every module and stylesheet that lies in this
 * folder, served under its own name, so a module's relative imports resolve to files beside it.
 * Listed once from the folder itself: a path that is not exactly one of them (another folder, `..`,
 * this server's own source, a test) is not served.
 */
const FILES: ReadonlyMap<string, { name: string; type: string }> = new Map([
  ['/', { name: 'index.html', type: TYPES.html! }],
  ...readdirSync(folder)
    .filter((name) => /^[a-z][a-z0-9-]*\.(?:html|js|css)$/.test(name))
    .map((name) => [`/${name}`, { name, type: TYPES[name.slice(name.lastIndexOf('.') + 1)]! }] as const),
]);

// Scripts only from this origin: a text that slipped into the page could not run. Inline styles are
// allowed because xterm.js (the terminal panel) writes its theme and row layout into <style> elements;
// everything from the server is still rendered as text, never as markup.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const VENDOR = vendorFiles();

const cache = new Map<string, Buffer>();
const read = (name: string, path?: string) => {
  let body = cache.get(name);
  if (!body) cache.set(name, (body = readFileSync(path ?? new URL(name, folder))));
  return body;
};

/** Serves the static dashboard; false when the path is not one of its files. */
export function serveDashboard(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  const vendor = VENDOR.get(pathname);
  const file = FILES.get(pathname) ?? (vendor ? { name: pathname, type: vendor.type } : undefined);
  if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const body = read(file.name, vendor?.path);
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
