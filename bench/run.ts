import { readdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule, BenchRow } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

console.log(
  `Forge benchmarks — node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
);
console.log('');
console.log('| benchmark | ours | baseline | ratio | goal |');
console.log('|---|---|---|---|---|');
let failed = false;
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)).default as BenchModule;
  let rows: BenchRow[];
  try {
    rows = await mod.run();
  } catch (error) {
    failed = true;
    console.log(`| ${mod.title} | error: ${(error as Error).message} | | | |`);
    continue;
  }
  for (const r of rows) {
    const ratio = r.ours / r.baseline;
    const goal =
      r.goalMax !== undefined
        ? `≤ ${fmt(r.goalMax)} ${r.unit} ${r.ours <= r.goalMax ? 'met' : 'MISSED'}`
        : r.goalMin !== undefined
          ? `≥ ${fmt(r.goalMin)} ${r.unit} ${r.ours >= r.goalMin ? 'met' : 'MISSED'}`
          : r.goal === undefined
            ? ''
            : `≥ ${r.goal}× ${ratio >= r.goal ? 'met' : 'MISSED'}`;
    console.log(
      `| ${mod.title}: ${r.name} | ${fmt(r.ours)} ${r.unit} | ${fmt(r.baseline)} ${r.unit} (${r.baselineName}) | ${ratio.toFixed(2)}× | ${goal} |${r.note ? ` ${r.note}` : ''}`,
    );
  }
}
process.exit(failed ? 1 : 0);
