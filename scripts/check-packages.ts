// `pnpm check:packages` (CI, after lint): packs every package as publishing would and runs publint and
// @arethetypeswrong/cli on each tarball. Expects a build (the script runs `pnpm build` first).
//
// attw runs with the node16 profile: it checks node16 from ESM, node16 from CommonJS and bundler resolution,
// and leaves out node10 (`moduleResolution: node`), which cannot see subpath exports (`./testing`,
// `./internal`) at all; Forge needs Node >= 20.19, whose users' TypeScript resolves with node16 or later.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packPackages, repoRoot } from './pack.js';

const bin = (name: string) => path.join(repoRoot, 'node_modules', '.bin', name);
const dest = mkdtempSync(path.join(tmpdir(), 'forge-check-packages-'));
let failed = 0;
try {
  for (const pkg of packPackages(dest)) {
    for (const [tool, args] of [
      ['publint', ['--strict', pkg.tarball]],
      ['attw', ['--profile', 'node16', '--format', 'table-flipped', pkg.tarball]],
    ] as const) {
      try {
        execFileSync(bin(tool), args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
        console.log(`ok   ${tool} ${pkg.name}`);
      } catch (error) {
        failed++;
        const { stdout, stderr } = error as { stdout?: string; stderr?: string };
        console.error(`FAIL ${tool} ${pkg.name}\n${stdout ?? ''}${stderr ?? ''}`);
      }
    }
  }
} finally {
  rmSync(dest, { recursive: true, force: true });
}
if (failed) {
  console.error(`${failed} check(s) failed`);
  process.exit(1);
}
