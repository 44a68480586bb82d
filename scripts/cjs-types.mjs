// Runs after tsup in every package's build (`tsup && node ../../scripts/cjs-types.mjs`).
//
// A CommonJS consumer on `module: node16` reads the `.d.cts` files, where `import { KubeConfig } from
// '@kubernetes/client-node'` means a require() of a package that ships ESM only: TypeScript refuses it (TS1479),
// and `skipLibCheck` does not help. The types themselves are fine, so each import of an ESM-only package in a
// `.d.cts` becomes a type-only import resolved as ESM (`with { 'resolution-mode': 'import' }`, TypeScript ≥ 5.3),
// and the bare `import 'x';` lines the declaration bundler leaves behind are dropped. Which packages are
// ESM-only is asked of TypeScript's own node16 resolution, so a new dependency is handled without a list.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const ts = require('typescript');

const dist = path.resolve(process.argv[2] ?? 'dist');
const options = { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 };

function* declarationFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* declarationFiles(file);
    else if (entry.name.endsWith('.d.cts')) yield file;
  }
}

/** Where `specifier` leads from `fromFile` when loaded as `mode` (require or import), or undefined. */
function resolveAs(specifier, fromFile, mode) {
  return ts.resolveModuleName(specifier, fromFile, options, ts.sys, undefined, undefined, mode).resolvedModule;
}

const cache = new Map();
function esmOnly(specifier, fromFile) {
  if (specifier.startsWith('.') || specifier.startsWith('node:')) return false;
  const key = `${path.dirname(fromFile)}\0${specifier}`;
  if (!cache.has(key)) {
    const resolvedModule = resolveAs(specifier, fromFile, ts.ModuleKind.CommonJS);
    let esm = false;
    if (!resolvedModule) {
      // Not resolvable by require at all: see whether an import would find it (an exports map without `require`).
      esm = Boolean(resolveAs(specifier, fromFile, ts.ModuleKind.ESNext));
    } else {
      const format = ts.getImpliedNodeFormatForFile(resolvedModule.resolvedFileName, undefined, ts.sys, options);
      esm = format === ts.ModuleKind.ESNext;
    }
    cache.set(key, esm);
  }
  return cache.get(key);
}

let changed = 0;
for (const file of declarationFiles(dist)) {
  const source = readFileSync(file, 'utf8');
  const lines = source.split('\n').flatMap((line) => {
    const bare = /^import '([^']+)';$/.exec(line);
    if (bare && esmOnly(bare[1], file)) return [];
    const named = /^import (?:type )?(\{[^}]*\}|\* as \w+) from '([^']+)';$/.exec(line);
    if (named && esmOnly(named[2], file))
      return [`import type ${named[1]} from '${named[2]}' with { 'resolution-mode': 'import' };`];
    const reexport = /^export (?:type )?\{[^}]*\} from '([^']+)';$/.exec(line);
    if (reexport && esmOnly(reexport[1], file))
      throw new Error(`${file}: re-exports from the ESM-only ${reexport[1]}; export a local alias instead`);
    return [line];
  });
  const out = lines.join('\n');
  if (out !== source) {
    writeFileSync(file, out);
    changed++;
  }
}
if (changed)
  console.log(`cjs-types: ${changed} .d.cts file(s) now import ESM-only packages as types with resolution-mode`);
