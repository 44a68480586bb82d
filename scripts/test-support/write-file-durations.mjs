// Writes file-durations.json (what the slow-first sequencer falls back to on a fresh clone) from the durations
// the last `pnpm test` on this clone recorded in vitest's cache: `node scripts/test-support/write-file-durations.mjs`.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(import.meta.dirname, '..', '..');
const cache = path.join(root, 'node_modules', '.vite', 'vitest');
const durations = {};
for (const dir of readdirSync(cache)) {
  const { results } = JSON.parse(readFileSync(path.join(cache, dir, 'results.json'), 'utf8'));
  for (const [key, { duration }] of results) {
    const [project, file] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    if (project && duration) durations[file] = Math.round(duration / 100) / 10;
  }
}
const sorted = Object.fromEntries(Object.entries(durations).sort((a, b) => b[1] - a[1]));
writeFileSync(path.join(import.meta.dirname, 'file-durations.json'), `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`${Object.keys(sorted).length} files`);
