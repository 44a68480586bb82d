import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where vitest's global setup (program-bundles-setup.ts) keeps this run's bundles. */
export const PROGRAM_BUNDLES_ENV = 'FORGE_TEST_PROGRAM_BUNDLES';

/**
 * Bundles live under the repo's node_modules: a package a program imports by a name known only when it runs
 * (core's optional `node-pty`) is found from there as it is from the sources, which a bundle in /tmp could not.
 */
export function programBundlesRoot(): string {
  return join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'forge-test-programs');
}

interface EsbuildPlugin {
  name: string;
  setup(build: EsbuildPluginBuild): void;
}
interface EsbuildPluginBuild {
  onResolve(
    options: { filter: RegExp },
    callback: (args: ResolveArgs) => Promise<{ path: string; external?: boolean } | undefined>,
  ): void;
  onLoad(
    options: { filter: RegExp },
    callback: (args: { path: string }) => Promise<{ contents: string; loader: 'ts' } | undefined>,
  ): void;
  resolve(
    path: string,
    options: { kind: string; resolveDir: string; importer: string; pluginData: unknown },
  ): Promise<{ path: string; external: boolean; errors: unknown[] }>;
}
interface ResolveArgs {
  path: string;
  kind: string;
  resolveDir: string;
  importer: string;
  pluginData: unknown;
}
/** The part of esbuild's API used here (esbuild is tsx's dependency: the one the tests' children ran on). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ metafile: { inputs: Record<string, unknown> } }>;
  stop(): Promise<void>;
}

/** Bundles being made in this process, by entry: callers at the same time wait for one. */
const making = new Map<string, Promise<string>>();

/**
 * The `node` arguments that run one of the repo's TypeScript programs (an example's `src/main.ts`, a test's
 * platform) in a child process: the program bundled to one JavaScript file, once per test run, instead of
 * `--conditions=@forge/source --import tsx <entry>`. Under tsx every module of the program — hundreds, most of
 * them third-party — was resolved and loaded through tsx's hooks thread and its TypeScript transformed on every
 * start: ~1 s of the ~2.9 s of CPU a platform process took to serve, and the suite starts dozens of them.
 *
 * The bundle holds the workspace's own TypeScript (the `@forge/source` condition, as tsx resolved it); every
 * third-party package stays outside, imported from the file node would have loaded, so each module is the same
 * code as under tsx. `import.meta.url` in the workspace's sources keeps naming the source file, for the files
 * they find beside themselves (the dashboard's assets, PGlite's worker script).
 */
export async function programArgs(entry: string): Promise<string[]> {
  const file = resolve(entry);
  let bundle = making.get(file);
  if (!bundle) {
    bundle = fresh(file).finally(() => making.delete(file));
    making.set(file, bundle);
  }
  return [await bundle];
}

/** A bundle of `entry` no older than any file it was made from (a watch-mode rerun after an edit makes a new one). */
async function fresh(entry: string): Promise<string> {
  const out = join(bundlesDir(), `${createHash('sha256').update(entry).digest('hex').slice(0, 16)}.mjs`);
  try {
    const made = statSync(out).mtimeMs;
    const inputs = JSON.parse(readFileSync(`${out}.inputs.json`, 'utf8')) as string[];
    if (inputs.every((input) => statSync(input).mtimeMs <= made)) return out;
  } catch {
    // Not made yet in this run, or made from a file since removed: made now.
  }
  const inputs = await bundle(entry, `${out}.${process.pid}.tmp`);
  // Other workers may bundle the same program at the same time: each renames a whole file into place.
  await writeFile(`${out}.${process.pid}.inputs.tmp`, JSON.stringify(inputs));
  await rename(`${out}.${process.pid}.inputs.tmp`, `${out}.inputs.json`);
  await rename(`${out}.${process.pid}.tmp`, out);
  return out;
}

let ownDir: string | undefined;
function bundlesDir(): string {
  const dir = process.env[PROGRAM_BUNDLES_ENV];
  if (dir) {
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  if (!ownDir) {
    mkdirSync(programBundlesRoot(), { recursive: true });
    const made = mkdtempSync(join(programBundlesRoot(), 'run-'));
    ownDir = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return ownDir;
}

async function bundle(entry: string, outfile: string): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const esbuild = require(createRequire(require.resolve('tsx/cjs/api')).resolve('esbuild')) as Esbuild;
  const { metafile } = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@forge/source'],
    metafile: true,
    logLevel: 'warning',
    // Workspace code that calls `require` (createRequire aside) gets one, as it does as a module of its own.
    banner: {
      js: "import { createRequire as __forgeRequire } from 'node:module'; const require = __forgeRequire(import.meta.url);",
    },
    plugins: [packagesOutside],
  });
  return Object.keys(metafile.inputs).map((input) => resolve(input));
}

const packagesOutside: EsbuildPlugin = {
  name: 'packages-outside',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === packagesOutside || args.path.startsWith('node:')) return undefined;
      const found = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: packagesOutside,
      });
      if (found.errors.length > 0 || found.external) return undefined;
      // The workspace's packages (linked, not under node_modules) are bundled; the rest is loaded from its file.
      return found.path.includes('/node_modules/') ? { path: found.path, external: true } : { path: found.path };
    });
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      return {
        contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: 'ts',
      };
    });
  },
};
