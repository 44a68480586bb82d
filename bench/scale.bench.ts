import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchModule, BenchRow } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const platformDir = join(here, '../examples/platform');
/** Node's flags in the platform's `pnpm start` script, so the probe runs as the platform does. */
function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  return words.slice(1, words.indexOf('src/main.ts'));
}

interface Figures {
  runs: number;
  completed: number;
  runLengthMs: number;
  baseDelayP99Ms: number;
  delayP99Ms: number;
  peakRssMB: number;
  wallMs: number;
  p99Ms?: number;
}

/** One probe process (scale-probe.ts): RSS and event-loop delay only mean something for a process of its own. */
async function probe(mode: 'sse' | 'runs', runs: number): Promise<Figures> {
  const child = spawn(process.execPath, [...startFlags(), join(here, 'scale-probe.ts'), mode, String(runs)], {
    cwd: platformDir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`scale-probe ${mode} exited ${code}`);
  const figures = JSON.parse(out.trim().split('\n').pop()!) as Figures;
  if (figures.completed !== runs) throw new Error(`${figures.completed} of ${runs} runs completed`);
  return figures;
}

const SSE_RUNS = Number(process.env.BENCH_SCALE_SSE_RUNS ?? 200);
const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 1_000);

const bench: BenchModule = {
  title: 'platform scale',
  async run(): Promise<BenchRow[]> {
    const sse = await probe('sse', SSE_RUNS);
    console.error(`platform scale: ${SSE_RUNS} runs × 5 SSE readers ${JSON.stringify(sse)}`);
    const many = await probe('runs', RUNS);
    console.error(`platform scale: ${RUNS} runs ${JSON.stringify(many)}`);
    return [
      {
        name: `${SSE_RUNS} agents × 5 SSE readers (embedded store, loopback HTTP): p99 time from the message to run.completed at a reader`,
        unit: 'ms',
        lowerIsBetter: true,
        ours: sse.p99Ms!,
        baseline: sse.runLengthMs,
        baselineName: 'the run’s own length (the same scripted run executed directly, 7 events 100 ms apart)',
        goalMax: 1.5 * sse.runLengthMs,
      },
      {
        name: `${RUNS} concurrent scripted runs on one instance (embedded store): event-loop delay p99`,
        unit: 'ms',
        lowerIsBetter: true,
        ours: many.delayP99Ms,
        baseline: many.baseDelayP99Ms,
        baselineName: 'the same runs executed directly in the same process, no store',
        goalMax: 50,
        note: `wall ${Math.round(many.wallMs)} ms for runs of ${Math.round(many.runLengthMs)} ms`,
      },
      {
        name: `the same ${RUNS} runs: peak RSS`,
        unit: 'MB RSS',
        lowerIsBetter: true,
        ours: Math.round(many.peakRssMB),
        baseline: Math.round(many.peakRssMB),
        baselineName: 'itself (no baseline: a ceiling)',
        goalMax: 600,
      },
    ];
  },
};
export default bench;
