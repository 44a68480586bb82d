import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchModule, BenchRow } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const platformDir = join(here, '../examples/platform');
/** As `pnpm start` and `pnpm bench` run TypeScript: tsx alone adds ~35 MB to a bare Node. */
const tsx = ['--conditions=@forge/source', '--import', 'tsx'];
/** Node's flags in the platform's `pnpm start` script (its young-generation cap among them), so the row measures what it runs. */
const startFlags = (): string[] => {
  const pkg = JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  return words.slice(1, words.indexOf('src/main.ts'));
};
const mb = (n: number) => Math.round(n);

async function probe(mode: string, dir?: string): Promise<number> {
  const child = spawn(process.execPath, [...tsx, join(here, 'rss-probe.ts'), mode, ...(dir ? [dir] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`rss-probe ${mode} exited ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!).rssMB;
}

/** `pnpm start` (its node flags, its entry) on `dataDir`: its RSS (VmRSS) 2 s after it says where it serves, then SIGTERM. */
async function platformIdleRss(dataDir: string): Promise<number> {
  const child = spawn(process.execPath, [...startFlags(), 'src/main.ts', '--port', '0'], {
    cwd: platformDir,
    env: { ...process.env, FORGE_API_KEYS: 'bench:bench-key', FORGE_DATA_DIR: dataDir, FORGE_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
        if (/on http:\/\/127\.0\.0\.1:\d+/.test(text)) resolve();
      });
      child.on('exit', () => reject(new Error(`platform exited early:\n${text}`)));
    });
    await new Promise((r) => setTimeout(r, 2_000));
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const bench: BenchModule = {
  title: 'platform footprint',
  async run(): Promise<BenchRow[]> {
    const tmp = await mkdtemp(join(tmpdir(), 'forge-footprint-'));
    try {
      const bare = await probe('bare');
      const platformNew = await platformIdleRss(join(tmp, 'platform'));
      const platformReopened = await platformIdleRss(join(tmp, 'platform'));
      const storeNew = await probe('store-dir', join(tmp, 'store'));
      const pgliteNew = await probe('pglite-dir', join(tmp, 'pglite'));
      const storeReopened = await probe('store-dir', join(tmp, 'pglite'));
      const pgliteReopened = await probe('pglite-dir', join(tmp, 'pglite'));
      const storeMemory = await probe('store-memory');
      const pgliteMemory = await probe('pglite-memory');
      const row = (name: string, ours: number, baseline: number, baselineName: string, goalMax?: number) =>
        ({
          name,
          unit: 'MB RSS',
          lowerIsBetter: true,
          ours: mb(ours),
          baseline: mb(baseline),
          baselineName,
          ...(goalMax === undefined ? {} : { goalMax }),
        }) satisfies BenchRow;
      return [
        row(
          '`pnpm start` idle on the embedded default, new data dir',
          platformNew,
          bare,
          'a bare Node process under tsx',
          250,
        ),
        row(
          'the same, its data dir reopened by a new start',
          platformReopened,
          bare,
          'a bare Node process under tsx',
          250,
        ),
        row(
          '`openStore({ dataDir })`, new data dir',
          storeNew,
          pgliteNew,
          '`PGlite.create(dir)` as PGlite 0.6.1 does it',
        ),
        row(
          '`openStore({ dataDir })`, existing data dir made by plain PGlite',
          storeReopened,
          pgliteReopened,
          '`PGlite.create(dir)` reopening it',
        ),
        row('`openStore({ memory: true })`', storeMemory, pgliteMemory, '`PGlite.create()` (memory://)'),
      ];
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  },
};
export default bench;
