import { defineConfig, type Options } from 'tsup';

/**
 * The build every published package shares: ESM + CJS + `.d.ts` for node 20, with source maps. A package's
 * `tsup.config.ts` names its entry points (and anything of its own) and nothing else.
 */
export function packageBuild(entry: Record<string, string>, own: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    // A workspace dependency's types come from its built declarations, not its TypeScript source (the `@forge/source`
    // condition the rest of the repo resolves): the same files out, in 108 s of CPU for the ten packages instead of
    // 149 s (2026-12-08), since a declaration file is read without checking function bodies. `pnpm build` builds
    // dependencies first; a package built alone needs its dependencies built.
    dts: { compilerOptions: { customConditions: [] } },
    clean: true,
    sourcemap: true,
    target: 'node20',
    ...own,
  });
}
