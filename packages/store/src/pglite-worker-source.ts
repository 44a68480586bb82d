import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The part of esbuild's API used here (esbuild is tsx's dependency, not the store's). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>;
  stop(): Promise<void>;
}

let bundled: Promise<string> | undefined;

/**
 * The PGlite worker's script (pglite-worker.ts and the modules it imports) as one plain CommonJS
 * script, for a worker started from source (tsx, vitest). A worker thread does not get the loader
 * that made this module's TypeScript runnable; loading tsx's require hook in it instead cost ~10–25 MB
 * of RSS (tsx's code, esbuild's sync service — one more isolate when its cache missed — and the
 * TypeScript compiled again per worker). Bundled once per process with the esbuild tsx runs on;
 * PGlite stays outside the bundle, required from the store's own copy. The built package has the
 * script as a file of its own (pglite-worker.js) and never comes here.
 */
export function pgliteWorkerSource(): Promise<string> {
  bundled ??= bundle().catch((error: unknown) => {
    bundled = undefined;
    throw error;
  });
  return bundled;
}

async function bundle(): Promise<string> {
  const here = import.meta.url;
  const require = createRequire(here);
  const esbuild = require(createRequire(require.resolve('tsx/cjs/api')).resolve('esbuild')) as Esbuild;
  const pglite = require.resolve('@electric-sql/pglite');
  try {
    const { outputFiles } = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('./pglite-worker.ts', here))],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // The workspace's packages from their TypeScript, as this process loads them (tree-shaken: joinChunks of core).
      conditions: ['@forge/source'],
      write: false,
      logLevel: 'silent',
      plugins: [
        {
          name: 'pglite-outside',
          setup(build: { onResolve(options: { filter: RegExp }, resolve: () => unknown): void }) {
            build.onResolve({ filter: /^@electric-sql\/pglite$/ }, () => ({ path: pglite, external: true }));
          },
        },
      ],
    });
    return outputFiles[0]!.text;
  } finally {
    // Its service is a child process kept for the process's life otherwise. Whoever else uses this esbuild (tsx's
    // require hook) is not cut off: its next call starts the service again.
    await esbuild.stop();
  }
}
