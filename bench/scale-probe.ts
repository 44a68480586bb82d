import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createCodeAgent, defaultCapabilities, type CodeAgent } from '@forge/core';
import { listen } from '@forge/example-platform/listen';
import { streamRun } from '@forge/example-platform/sse';
import { RunManager } from '@forge/example-platform/run-manager';
import { openStore } from '@forge/store';
import { wasmBaselineOnly } from '@forge/example-platform/wasm-baseline-only';

/**
 * One process, the platform's run path at scale on the embedded store (a new data dir), as
 * `pnpm start` runs it (scale.bench.ts starts this with its node flags): scripted runs of ~0.7 s
 * (7 events 100 ms apart), either `readers` SSE readers over loopback HTTP per run, or none.
 * Prints one JSON line of figures.
 */
const [mode, countArg] = process.argv.slice(2);
const runs = Number(countArg);
const STEPS = 7;
const GAP_MS = 100;

function paced(): CodeAgent {
  return createCodeAgent({
    provider: 'scale',
    declared: defaultCapabilities(),
    async run(ctx) {
      for (let i = 0; i < STEPS; i++) {
        await new Promise((r) => setTimeout(r, GAP_MS));
        ctx.emit({ type: 'text.delta', text: `token ${i} `, messageId: 'msg_1' });
      }
      return { text: 'done' };
    },
  });
}

const rssMB = async () => Number(/VmRSS:\s+(\d+)/.exec(await readFile('/proc/self/status', 'utf8'))![1]) / 1024;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** The same runs executed directly, no store: each run's own length, and the loop's delay meanwhile. */
async function direct(agent: CodeAgent) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const cpu0 = process.cpuUsage();
  const lengths = await Promise.all(
    Array.from({ length: runs }, async () => {
      const t0 = performance.now();
      for await (const _ of agent.execute({ prompt: 'x' }));
      return performance.now() - t0;
    }),
  );
  delay.disable();
  const cpu = process.cpuUsage(cpu0);
  return { length: pct(lengths, 0.5), delayP99: delay.percentile(99) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 };
}

wasmBaselineOnly();
const agent = paced();
const base = await direct(agent);
const dir = await mkdtemp(join(tmpdir(), 'forge-scale-'));
// As the platform opens it: PGlite in a worker thread unless FORGE_PGLITE_WORKER=0 (then in this thread).
const store = await openStore({ dataDir: join(dir, 'db'), worker: process.env.FORGE_PGLITE_WORKER !== '0' });
/** Statements by kind (the first table each names), to see what the database's queue is made of. */
const statements = new Map<string, number>();
const query = store.sql.query.bind(store.sql);
store.sql.query = ((text: string, params?: readonly unknown[]) => {
  const kind = /(?:insert into|update|from)\s+(forge_\w+)/.exec(text)?.[0] ?? text.slice(0, 30);
  const key = `${/^\s*with/.test(text) ? 'with ' : ''}${kind}`;
  statements.set(key, (statements.get(key) ?? 0) + 1);
  return query(text, params);
}) as typeof store.sql.query;
const manager = await RunManager.create({ store, agents: async () => agent, maxRunning: runs });
// The platform's own listener (its backlog takes a thousand readers connecting at once).
const server = await listen(
  (req, res) => {
    const id = req.url!.slice(1);
    void streamRun(req, res, id, (signal) => manager.follow(id, 0, signal), {});
  },
  { port: 0, host: '127.0.0.1' },
);
const { port } = server;
const client = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

/** Reads a run's SSE stream until run.completed: resolves with the time it arrived. */
const read = (requestId: string) =>
  new Promise<number>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: `/${requestId}`, agent: client }, (res) => {
        let tail = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          tail = (tail + chunk).slice(-4096);
          // The stream ends after run.completed (streamRun): the time it arrived is what counts.
          if (tail.includes('"type":"run.completed"')) resolve(performance.now());
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });

let peak = await rssMB();
const sampler = setInterval(async () => {
  peak = Math.max(peak, await rssMB());
}, 100);
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
statements.clear();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
// The measured window on the clock of `--cpu-prof` (µs), to read a profile of this part alone.
if (process.env.BENCH_SCALE_STATEMENTS) console.error(`window from ${process.hrtime.bigint() / 1000n}`);
const readers = mode === 'sse' ? 5 : 0;
/** Each message's time to be accepted (`submit` resolved): the queue's share of a reader's wait. */
const submits: number[] = [];
const done = await Promise.all(
  Array.from({ length: runs }, async (_, i) => {
    const submitted = performance.now();
    const { run } = await manager.submit({ userId: 'bench', agentId: `agt_scale${i}`, request: { prompt: 'x' } });
    submits.push(performance.now() - submitted);
    if (!readers) return [];
    const arrivals = await Promise.all(Array.from({ length: readers }, () => read(run.requestId)));
    return arrivals.map((at) => at - submitted);
  }),
);
await manager.idle();
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
if (process.env.BENCH_SCALE_STATEMENTS) console.error(`window to ${process.hrtime.bigint() / 1000n}`);
delay.disable();
clearInterval(sampler);
peak = Math.max(peak, await rssMB());
const completed = (
  await store.sql.query<{ n: number }>(`select count(*)::int as n from forge_runs where status = 'completed'`)
)[0]!.n;
const times = done.flat();
if (process.env.BENCH_SCALE_STATEMENTS)
  console.error(
    [...statements]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${n}\t${k}`)
      .join('\n'),
  );
console.log(
  JSON.stringify({
    runs,
    completed,
    runLengthMs: base.length,
    baseDelayP99Ms: base.delayP99,
    delayP99Ms: delay.percentile(99) / 1e6,
    peakRssMB: peak,
    wallMs: wall,
    /** CPU time of the whole process (platform and its SSE clients) per run: what load does not change much. */
    cpuMsPerRun: (cpu.user + cpu.system) / 1000 / runs,
    baseCpuMsPerRun: base.cpuMs / runs,
    submitP50Ms: pct(submits, 0.5),
    submitP99Ms: pct(submits, 0.99),
    statementsPerRun: [...statements.values()].reduce((a, b) => a + b, 0) / runs,
    ...(times.length ? { readers: times.length, p50Ms: pct(times, 0.5), p99Ms: pct(times, 0.99) } : {}),
  }),
);
await server.close();
await manager.close();
await store.close();
await rm(dir, { recursive: true, force: true });
process.exit(0);
