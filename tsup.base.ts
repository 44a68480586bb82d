import { defineConfig, type Options } from 'tsup';

/**
 * The build every published package shares: ESM + CJS + `.d.ts` for node 20, with source maps. A package's
 * `tsup.config.ts` names its entry points (and anything of its own) and nothing else.
 */
export function packageBuild(entry: Record<string, string>, own: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    ...own,
  });
}
