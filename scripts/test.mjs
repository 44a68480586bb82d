// `pnpm test`: the type check and the test files at the same time, failing if either fails.
//
// One after the other, the type check kept one of two cores idle before the first test file started. Beside the
// tests, at a lower priority, it takes the CPU the test files leave while they wait for real programs. Its output is
// printed once it ends, so it never interleaves with the test reporter's. Arguments go to vitest
// (`pnpm test packages/core`), as they did before.
//
// The check is TypeScript 7's `tsc` (tools/typescript-7; see docs/contributing.md): the same result over this
// tree as 5.9's in ~9 s of CPU instead of ~32 s, which the tests beside it, CPU-bound on two cores, get back.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const tscBin = path.join(
  path.dirname(require.resolve('../tools/typescript-7/node_modules/typescript/package.json')),
  'bin',
  'tsc',
);
const vitestBin = path.join(path.dirname(require.resolve('vitest/package.json')), 'vitest.mjs');

const tsc = spawn(process.execPath, [tscBin, '-p', 'tsconfig.json', '--noEmit'], { stdio: ['ignore', 'pipe', 'pipe'] });
try {
  setPriority(tsc.pid, 10);
} catch {
  // Not allowed on this system: it then runs at the tests' priority, which is only slower.
}
let tscOutput = '';
tsc.stdout.on('data', (chunk) => {
  tscOutput += chunk;
});
tsc.stderr.on('data', (chunk) => {
  tscOutput += chunk;
});
const typecheck = new Promise((resolve) =>
  tsc.on('close', (code, signal) => {
    if (signal) tscOutput += `tsc ended by ${signal}\n`;
    resolve(code ?? 1);
  }),
);

const vitest = spawn(process.execPath, [vitestBin, 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
const tests = new Promise((resolve) => vitest.on('close', (code) => resolve(code ?? 1)));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    tsc.kill(signal);
    vitest.kill(signal);
  });
}

const [typecheckCode, testsCode] = await Promise.all([typecheck, tests]);
if (typecheckCode === 0) process.stdout.write('\nType check (TypeScript 7, tsc --noEmit): no errors.\n');
else process.stdout.write(`\nType check (TypeScript 7, tsc --noEmit) failed:\n${tscOutput}\n`);
process.exit(typecheckCode !== 0 ? typecheckCode : testsCode);
