import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = (pkg: string) => dirname(require.resolve(`${pkg}/package.json`));

/**
 * Browser modules the dashboard takes from node_modules as they ship (no build step): xterm.js for
 * the terminal panel, an ES module with no imports of its own, and its fit addon. Served under
 * /vendor/ by exact name only.
 */
export function vendorFiles(): Map<string, { path: string; type: string }> {
  const js = 'text/javascript; charset=utf-8';
  const xterm = root('@xterm/xterm');
  return new Map([
    ['/vendor/xterm.mjs', { path: join(xterm, 'lib/xterm.mjs'), type: js }],
    ['/vendor/xterm.css', { path: join(xterm, 'css/xterm.css'), type: 'text/css; charset=utf-8' }],
    ['/vendor/addon-fit.mjs', { path: join(root('@xterm/addon-fit'), 'lib/addon-fit.mjs'), type: js }],
  ]);
}
