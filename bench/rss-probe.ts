import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { PGlite as PGliteClass } from '@electric-sql/pglite';

/**
 * One process, one way of opening the embedded database, then its resident memory in MB on stdout.
 * Run by `footprint.bench.ts`: RSS only means something for a process of its own. Modules are
 * imported by the mode that needs them, so `bare` is Node (under tsx) and nothing else.
 */
async function pglite(): Promise<typeof PGliteClass> {
  // PGlite is the store's dependency, not the workspace root's: load the very copy the store uses.
  const entry = createRequire(new URL('../packages/store/package.json', import.meta.url)).resolve(
    '@electric-sql/pglite',
  );
  return ((await import(pathToFileURL(entry).href)) as { PGlite: typeof PGliteClass }).PGlite;
}

const [mode, dir] = process.argv.slice(2);
const store = () => import('@forge/store');
if (mode === 'store-dir') await (await store()).openStore({ dataDir: dir! });
else if (mode === 'store-memory') await (await store()).openStore({ memory: true });
else if (mode === 'pglite-dir') await (await (await pglite()).create(dir!)).query('select 1');
else if (mode === 'pglite-memory') await (await (await pglite()).create()).query('select 1');
else if (mode !== 'bare') throw new Error(`unknown mode ${mode}`);
await new Promise((r) => setTimeout(r, 1_000));
console.log(JSON.stringify({ rssMB: process.memoryUsage().rss / 2 ** 20 }));
process.exit(0);
