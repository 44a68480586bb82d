import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** Builds every package (ESM, CJS, types). */
export function buildPackages(): void {
  pnpm(['-r', '--filter', './packages/**', 'build']);
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
