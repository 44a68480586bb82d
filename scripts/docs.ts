import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generatedRegions, replaceRegions } from './provider-tables.js';

// `pnpm docs`: rewrites the generated regions of the docs (the provider tables) from the code.
const root = path.resolve(import.meta.dirname, '..');
for (const [file, regions] of Object.entries(generatedRegions())) {
  const full = path.join(root, file);
  const before = await readFile(full, 'utf8');
  const after = replaceRegions(before, regions, file);
  if (after !== before) await writeFile(full, after);
  console.log(`${file}: ${after === before ? 'up to date' : 'rewritten'}`);
}
