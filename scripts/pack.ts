import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..');

/** pnpm as the repository pins it: the running one when started by pnpm, else through npx. */
export function pnpm(args: string[], options: { cwd?: string } = {}): string {
  const execPath = process.env.npm_execpath;
  const [command, prefix] =
    execPath && /pnpm/.test(execPath)
      ? [process.execPath, [execPath]]
      : ['npx', ['-y', JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).packageManager]];
  return execFileSync(command, [...prefix, ...args], {
    cwd: options.cwd ?? repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * Builds (ESM, CJS, types) every package whose `dist` is missing or older than what it is built from, and
 * returns their names. CI's `check:packages` has just built them all, so the packages test then builds nothing:
 * the build was the longest step of the slowest test file.
 */
export function buildPackages(): string[] {
  const shared = ['tsup.base.ts', 'tsconfig.base.json', 'package.json', 'pnpm-lock.yaml'].map((f) =>
    path.join(repoRoot, f),
  );
  const stale = packageDirs().filter((dir) => {
    const built = oldest(path.join(dir, 'dist'));
    const inputs = [
      ...shared,
      path.join(dir, 'package.json'),
      path.join(dir, 'tsup.config.ts'),
      path.join(dir, 'tsconfig.json'),
    ];
    return built === undefined || newest(path.join(dir, 'src'), inputs) >= built;
  });
  if (stale.length === 0) return [];
  pnpm(['-r', ...stale.flatMap((dir) => ['--filter', `./${path.relative(repoRoot, dir)}`]), 'build']);
  return stale.map((dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name);
}

function packageDirs(): string[] {
  return readdirSync(path.join(repoRoot, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(repoRoot, 'packages', d.name, 'package.json')))
    .map((d) => path.join(repoRoot, 'packages', d.name));
}

/** The newest modification time of the files under `dir` and of `files` (those that exist). */
function newest(dir: string, files: string[]): number {
  let max = 0;
  for (const file of [...walk(dir), ...files.filter((f) => existsSync(f))]) max = Math.max(max, statSync(file).mtimeMs);
  return max;
}

/** The oldest modification time of the files under `dir`; undefined when there are none. */
function oldest(dir: string): number | undefined {
  let min: number | undefined;
  for (const file of walk(dir)) min = Math.min(min ?? Number.POSITIVE_INFINITY, statSync(file).mtimeMs);
  return min;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

export interface PackedPackage {
  name: string;
  version: string;
  dir: string;
  tarball: string;
}

/**
 * `pnpm pack` of every package under packages/ into `dest`, in one call: pnpm rewrites `workspace:*` to
 * the versions and applies `publishConfig` (the exports without the `@forge/source` condition), as publishing does.
 */
export function packPackages(dest: string): PackedPackage[] {
  pnpm(['-r', '--filter', './packages/**', 'pack', '--pack-destination', dest]);
  const tarballs = new Set(readdirSync(dest).filter((f) => f.endsWith('.tgz')));
  return readdirSync(path.join(repoRoot, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => path.join(repoRoot, 'packages', d.name))
    .filter((dir) => {
      try {
        readFileSync(path.join(dir, 'package.json'));
        return true;
      } catch {
        return false;
      }
    })
    .map((dir) => {
      const { name, version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      const file = `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
      if (!tarballs.has(file)) throw new Error(`pnpm pack made no ${file} in ${dest}`);
      return { name, version, dir, tarball: path.join(dest, file) };
    });
}
