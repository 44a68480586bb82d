import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/*
 * The rules every package under packages/ keeps (docs/contributing.md, "Packages"), checked without building:
 * the entry points and their package.json shape, what ships in the tarball, and that every import a file
 * makes is a declared dependency. The packed packages themselves are tried in packages.int.test.ts.
 */

const root = path.resolve(import.meta.dirname, '..');
const packageDirs = readdirSync(path.join(root, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(root, 'packages', d.name, 'package.json')))
  .map((d) => path.join(root, 'packages', d.name));

interface Manifest {
  name: string;
  version: string;
  license?: string;
  sideEffects?: boolean;
  main?: string;
  module?: string;
  types?: string;
  files?: string[];
  exports?: Record<string, unknown>;
  publishConfig?: { exports?: Record<string, unknown>; access?: string };
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const read = (file: string) => readFileSync(file, 'utf8');
const manifest = (dir: string): Manifest => JSON.parse(read(path.join(dir, 'package.json')));

/** The entry points a package has, by the files in src/ (subpath → dist name). */
function entryPoints(dir: string): [string, string][] {
  const has = (f: string) => existsSync(path.join(dir, 'src', f));
  return [
    ['.', 'index'],
    ...(has('internal.ts') ? ([['./internal', 'internal']] as [string, string][]) : []),
    ...(has('testing/index.ts') ? ([['./testing', 'testing/index']] as [string, string][]) : []),
    ...(has('testing/conformance.ts')
      ? ([['./testing/conformance', 'testing/conformance']] as [string, string][])
      : []),
  ];
}

const distConditions = (name: string) => ({
  import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
  require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(
      (f) => f.endsWith('.ts') && !f.split(path.sep).includes('gen') && !f.split(path.sep).includes('node_modules'),
    )
    .map((f) => path.join(dir, f));
}

function moduleSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest);
  const specs: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
      specs.push((node.moduleSpecifier as ts.StringLiteral).text);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) specs.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specs;
}

const packageName = (spec: string) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
const isBuiltin = (spec: string) => spec.startsWith('node:') || builtinModules.includes(spec);
/** Files only tests use: they may import devDependencies. */
const isTestFile = (file: string) =>
  /\.test\.ts$/.test(file) ||
  /[/\\](test-support|__fixtures__|fixtures)[/\\]/.test(file) ||
  file.endsWith('test-support.ts');

describe.each(packageDirs.map((dir) => [path.basename(dir), dir] as const))('package %s', (_, dir) => {
  const pkg = manifest(dir);

  it('exports ".", "./internal" when it has one, "./testing" when it has one — each source, ESM and CJS with types', () => {
    const expected: Record<string, unknown> = {};
    for (const [sub, name] of entryPoints(dir))
      expected[sub] = { '@forge/source': `./src/${name}.ts`, ...distConditions(name) };
    expected['./package.json'] = './package.json';
    expect(pkg.exports).toEqual(expected);
    // What pnpm pack publishes: the same map without the repository-only source condition.
    const published: Record<string, unknown> = {};
    for (const [sub, name] of entryPoints(dir)) published[sub] = distConditions(name);
    published['./package.json'] = './package.json';
    expect(pkg.publishConfig?.exports).toEqual(published);
    expect(pkg).toMatchObject({ main: './dist/index.cjs', module: './dist/index.js', types: './dist/index.d.cts' });
  });

  it('builds every entry point with tsup, then fixes CommonJS types', () => {
    const config = read(path.join(dir, 'tsup.config.ts'));
    for (const [, name] of entryPoints(dir)) expect(config).toContain(`'src/${name}.ts'`);
    expect(pkg.scripts?.build).toBe('tsup && node ../../scripts/cjs-types.mjs');
  });

  it('is MIT, side-effect free, ships dist with a LICENSE and a README', () => {
    expect(pkg.license).toBe('MIT');
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.files).toEqual(['dist']);
    expect(pkg.publishConfig?.access).toBe('public');
    expect(read(path.join(dir, 'LICENSE'))).toBe(read(path.join(root, 'LICENSE')));
    expect(read(path.join(dir, 'README.md'))).toMatch(new RegExp(`^# ${pkg.name.replace('/', '\\/')}\\n`));
  });

  it('says in ./internal that it is not public API', () => {
    const internal = path.join(dir, 'src', 'internal.ts');
    if (!existsSync(internal)) return;
    expect(read(internal)).toMatch(/^\/\*\*\n \* @forge\/[a-z0-9-]+\/internal — [\s\S]*Not public API/);
    expect(read(path.join(dir, 'README.md'))).toContain(`${pkg.name}/internal`);
  });

  it('declares every package its files import (tests: at least as a devDependency)', () => {
    const undeclared: string[] = [];
    for (const file of sourceFiles(path.join(dir, 'src'))) {
      for (const spec of moduleSpecifiers(file)) {
        if (spec.startsWith('.') || spec.startsWith('#') || isBuiltin(spec)) continue;
        const name = packageName(spec);
        if (name === pkg.name) continue;
        const runtime = pkg.dependencies?.[name] ?? pkg.peerDependencies?.[name];
        const dev = pkg.devDependencies?.[name];
        if (!runtime && !(isTestFile(file) && dev)) undeclared.push(`${path.relative(root, file)}: ${name}`);
      }
    }
    expect(undeclared).toEqual([]);
  });
});

describe('bench', () => {
  it('imports packages only through their entry points, not by path', () => {
    const bench = path.join(root, 'bench');
    const offenders = sourceFiles(bench).flatMap((file) =>
      moduleSpecifiers(file)
        .filter((spec) => spec.startsWith('.') && !spec.startsWith('./'))
        .map((spec) => `${path.relative(root, file)}: ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('uses only entry points that exist', () => {
    const exported = new Set<string>();
    for (const dir of packageDirs) {
      const pkg = manifest(dir);
      for (const sub of Object.keys(pkg.exports ?? {}))
        exported.add(sub === '.' ? pkg.name : `${pkg.name}${sub.slice(1)}`);
    }
    const unknown = sourceFiles(path.join(root, 'bench')).flatMap((file) =>
      moduleSpecifiers(file)
        .filter((spec) => spec.startsWith('@forge/') && !spec.startsWith('@forge/example-') && !exported.has(spec))
        .map((spec) => `${path.relative(root, file)}: ${spec}`),
    );
    expect(unknown).toEqual([]);
  });
});
