import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * One process, one way of opening the embedded database, then its resident memory in MB on stdout.
 * Run by `footprint.bench.ts`: RSS only means something for a process of its own. Modules are
 * imported by the mode that needs them, so `bare` is Node (under tsx) and nothing else.
 */
/** The part of PGlite's class used here (PGlite is not a dependency of the workspace root). */
interface PGliteClass {
  create(dataDir?: string): Promise<{ query(text: string): Promise<unknown> }>;
}

async function pglite(): Promise<PGliteClass> {
  // PGlite is the store's dependency, not the workspace root's: load the very copy the store uses.
  const entry = createRequire(new URL('../packages/store/package.json', import.meta.url)).resolve(
    '@electric-sql/pglite',
  );
  return ((await import(pathToFileURL(entry).href)) as { PGlite: PGliteClass }).PGlite;
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
