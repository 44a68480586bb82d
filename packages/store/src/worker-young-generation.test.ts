import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * A process started as `pnpm start` starts the platform (`--max-semi-space-size=8`) starts two workers asking for
 * 4 MB of young generation, one through startWithOwnYoungGeneration and one plainly, and prints the capacity
 * each one's new space grew to under a stream of short-lived objects.
 */
const script = (module: string) => `
import { Worker } from 'node:worker_threads';
import { startWithOwnYoungGeneration } from ${JSON.stringify(module)};
const code = "const v8 = require('node:v8'); let junk = []; for (let i = 0; i < 2e6; i++) { junk.push({ i }); if (junk.length > 20000) junk = []; } require('node:worker_threads').parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20)";
const options = { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 4 } };
const newSpace = async (worker) => { const mb = await new Promise((r) => worker.once('message', r)); await worker.terminate(); return mb; };
const own = await newSpace(startWithOwnYoungGeneration(() => new Worker(code, options)));
const plain = await newSpace(new Worker(code, options));
console.log(JSON.stringify({ own, plain }));
`;

describe('startWithOwnYoungGeneration', () => {
  it('gives a worker the young generation its resourceLimits ask for under --max-semi-space-size, and puts the flag back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-young-generation-'));
    let stdout: string;
    try {
      const file = join(dir, 'start.mts');
      await writeFile(file, script(pathToFileURL(join(import.meta.dirname, 'worker-young-generation.ts')).href));
      ({ stdout } = await promisify(execFile)(process.execPath, ['--max-semi-space-size=8', '--import', 'tsx', file]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const { own, plain } = JSON.parse(stdout.trim()) as { own: number; plain: number };
    expect(own).toBeLessThanOrEqual(4);
    // The process's flag is back: a worker started plainly grows past its cap, as before.
    expect(plain).toBeGreaterThan(4);
  }, 60_000);
});
