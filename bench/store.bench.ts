import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createCodeAgent, defaultCapabilities, type AgentEventInit, type CodeAgent } from '@forge/core';
import { streamRun } from '@forge/example-platform/sse';
import { RunManager } from '@forge/example-platform/run-manager';
import { openStore, RunStore, type ForgeStore, type JournalEvent } from '@forge/store';
import { compare, type BenchModule, type BenchRow } from './harness.js';

/** Events per run: a long agent turn (Claude Code emits a few hundred to a few thousand). */
const N = Number(process.env.BENCH_N ?? 5_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 100);
/** `BENCH_STORE_ROWS=queue`: only the queue rows (dispatch, accepted → running, one agent's queue). */
const queueOnly = process.env.BENCH_STORE_ROWS === 'queue';
/** Paced runs: events per run and per 10 ms burst (5,000 and 50,000 events/s). */
const PACES = [
  { events: 2_000, burst: 50 },
  { events: 10_000, burst: 500 },
] as const;
const events: AgentEventInit[] = Array.from({ length: N }, (_, i) => ({
  type: 'text.delta',
  text: `token ${i} `,
  messageId: 'msg_1',
}));

/** Runs with the prompt "hold" count themselves started, then wait for `release`. */
const hold = { started: 0, target: 0, allStarted: () => {}, release: () => {}, released: Promise.resolve() };

/** Emits N text deltas as fast as its reader takes them; a prompt "one" emits a single one. */
function producer(): CodeAgent {
  return createCodeAgent({
    provider: 'bench',
    declared: defaultCapabilities(),
    async run(ctx) {
      if (ctx.request.prompt === 'hold') {
        if (++hold.started === hold.target) hold.allStarted();
        await hold.released;
        return {};
      }
      if (ctx.request.prompt === 'one') {
        ctx.emit({ type: 'text.delta', text: 'hi' });
        return {};
      }
      const paced = /^paced:(\d+):(\d+)$/.exec(ctx.request.prompt);
      if (paced) {
        // Bursts every 10 ms: 5,000 events/s is already faster than any real agent streams.
        const [count, burst] = [Number(paced[1]), Number(paced[2])];
        for (let i = 0; i < count; i++) {
          ctx.emit(events[i % N]!);
          if (i % burst === burst - 1) await new Promise((r) => setTimeout(r, 10));
        }
        return {};
      }
      for (const e of events) if (!ctx.emit(e)) await ctx.drained();
      return {};
    },
  });
}

/**
 * The in-memory path the platform had before the journal: iterate the run, keep each event in the
 * run's buffer and hand it to its readers. The journal path adds JSON and a database.
 */
async function inMemory(agent: CodeAgent, prompt = 'bench', expected = N + 1): Promise<void> {
  const buffer: unknown[] = [];
  let seen = 0;
  const readers = [(_e: unknown) => seen++];
  for await (const e of agent.execute({ prompt })) {
    buffer.push(e);
    for (const r of readers) r(e);
  }
  if (buffer.length !== expected || seen !== expected) throw new Error(`got ${buffer.length} events`);
}

let agentNo = 0;
const started = performance.now();
const progress = (what: string) =>
  console.error(`platform store: ${what} done at ${Math.round(performance.now() - started)} ms`);

async function journalRows(label: string, store: ForgeStore): Promise<BenchRow[]> {
  const agent = producer();
  const runs = await RunManager.create({ store, agents: async () => agent, maxRunning: RUNS });
  try {
    const oneRun = async () => {
      const { run } = await runs.submit({
        userId: 'bench',
        agentId: `agt_bench${++agentNo}`,
        request: { prompt: 'x' },
      });
      await runs.idle();
      const stored = await runs.get('bench', run.requestId);
      if (stored?.eventCount !== N + 1) throw new Error(`journaled ${stored?.eventCount} events`);
      return run.requestId;
    };
    const rows: BenchRow[] = [];
    if (!queueOnly) {
      const r = await compare(N + 1, oneRun, () => inMemory(agent), 5);
      progress(`${label}: journal`);
      rows.push({
        name: `events through a run, journaled on ${label}`,
        unit: 'events/s',
        ours: r.ours,
        baseline: r.baseline,
        baselineName: 'the same run on the in-memory path (buffer + readers, no journal)',
        ...(label === 'PGlite' ? { goal: 0.5 } : {}),
      });
      for (const pace of PACES) {
        const prompt = `paced:${pace.events}:${pace.burst}`;
        const pacedRun = async () => {
          await runs.submit({ userId: 'bench', agentId: `agt_bench${++agentNo}`, request: { prompt } });
          await runs.idle();
        };
        const p = await compare(pace.events + 1, pacedRun, () => inMemory(agent, prompt, pace.events + 1), 3);
        progress(`${label}: paced ${pace.burst * 100}/s`);
        rows.push({
          name: `a run paced at ${(pace.burst * 100).toLocaleString('en-US')} events/s (bursts of ${pace.burst} every 10 ms), journaled on ${label}: run → all stored`,
          unit: 'events/s',
          ours: p.ours,
          baseline: p.baseline,
          baselineName: 'the same paced run on the in-memory path',
          ...(label === 'PGlite' ? { goal: 0.5 } : {}),
        });
      }
    }

    // Queue dispatch: RUNS one-event runs on RUNS agents, accepted → claimed → run → final status stored.
    const agentsOf = Array.from({ length: RUNS }, () => `agt_bench${++agentNo}`);
    const dispatch = async () => {
      await Promise.all(agentsOf.map((a) => runs.submit({ userId: 'bench', agentId: a, request: { prompt: 'one' } })));
      await runs.idle();
    };
    const direct = async () => {
      await Promise.all(
        agentsOf.map(async () => {
          for await (const _ of agent.execute({ prompt: 'one' }));
        }),
      );
    };
    const d = await compare(RUNS, dispatch, direct, 3);
    // CPU time per run (every thread of the process), which the machine's load does not move as it moves wall time.
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < 3; i++) await dispatch();
    const cpu = process.cpuUsage(cpu0);
    const cpuMsPerRun = (cpu.user + cpu.system) / 1000 / (3 * RUNS);
    progress(`${label}: dispatch`);
    rows.push({
      name: `queue dispatch on ${label} (${RUNS} messages to ${RUNS} agents: submit → claimed → run → final status stored)`,
      unit: 'runs/s',
      ours: d.ours,
      baseline: d.baseline,
      baselineName: 'the same runs executed directly in memory',
      ...(label === 'PGlite' ? { goalMin: 1_000 } : {}),
      note: `CPU ${cpuMsPerRun.toFixed(2)} ms a run (${Math.round(1000 / cpuMsPerRun)} runs/s of one core); load ${os.loadavg()[0]!.toFixed(1)}`,
    });

    // Accepted → running: RUNS messages to RUNS free agents, timed until every run executes.
    const toRunning = async (start: () => Promise<unknown>) => {
      Object.assign(hold, { started: 0, target: RUNS });
      hold.released = new Promise<void>((r) => {
        hold.release = r;
      });
      const all = new Promise<void>((r) => {
        hold.allStarted = r;
      });
      const t0 = performance.now();
      const done = start();
      await all;
      const ms = performance.now() - t0;
      hold.release();
      await done;
      return ms;
    };
    const viaQueue = () =>
      toRunning(async () => {
        await Promise.all(
          agentsOf.map((a) => runs.submit({ userId: 'bench', agentId: a, request: { prompt: 'hold' } })),
        );
        await runs.idle();
      });
    const directly = () =>
      toRunning(() =>
        Promise.all(
          agentsOf.map(async () => {
            for await (const _ of agent.execute({ prompt: 'hold' }));
          }),
        ),
      );
    const best = { ours: Number.POSITIVE_INFINITY, base: Number.POSITIVE_INFINITY };
    for (let i = 0; i < 4; i++) {
      best.base = Math.min(best.base, await directly());
      const ms = await viaQueue();
      if (i > 0) best.ours = Math.min(best.ours, ms);
    }
    progress(`${label}: accepted → running`);
    rows.push({
      name: `queue dispatch on ${label}: ${RUNS} messages to ${RUNS} free agents, accepted → all running`,
      unit: 'runs/s',
      ours: RUNS / (best.ours / 1000),
      baseline: RUNS / (best.base / 1000),
      baselineName: 'the same runs started directly in memory',
    });

    // One agent's queue drained in order: RUNS one-event messages queued, accepted → all completed.
    const oneAgent = `agt_bench${++agentNo}`;
    const drainQueue = async () => {
      for (let i = 0; i < RUNS; i++)
        await runs.submit({ userId: 'bench', agentId: oneAgent, request: { prompt: 'one' } });
      await runs.idle();
    };
    const inOrder = async () => {
      for (let i = 0; i < RUNS; i++) for await (const _ of agent.execute({ prompt: 'one' }));
    };
    const q = await compare(RUNS, drainQueue, inOrder, 3);
    progress(`${label}: one agent's queue`);
    rows.push({
      name: `queue dispatch on ${label}: ${RUNS} messages queued on one agent, accepted → all completed in order`,
      unit: 'runs/s',
      ours: q.ours,
      baseline: q.baseline,
      baselineName: 'the same runs one after another in memory',
    });

    if (queueOnly) return rows;
    // SSE replay of a finished run from the journal, over loopback HTTP.
    const requestId = await oneRun();
    const bodies = await store.runs.events(requestId, 0, N + 10);
    const replay = await sseReplay((signal) => runs.follow(requestId, 0, signal));
    const memory = await sseReplay(async function* () {
      yield* bodies as JournalEvent[];
    });
    const s = await compare(N + 1, replay.read, memory.read, 5);
    progress(`${label}: replay`);
    await replay.close();
    await memory.close();
    rows.push({
      name: `SSE replay of a finished run from the journal on ${label}, loopback HTTP`,
      unit: 'events/s',
      ours: s.ours,
      baseline: s.baseline,
      baselineName: 'the same frames from an in-memory array',
    });
    return rows;
  } finally {
    await runs.close();
  }
}

/**
 * How late a reader on another replica sees a run's events: replica A runs a paced run (an event
 * every 10 ms), replica B follows it from the journal; the lag is B's receipt time minus the
 * event's own time, median over every event. B woken by NOTIFY, or polling (LISTEN taken away),
 * against a reader on A itself (live, no database in between).
 */
async function followLag(url: string): Promise<BenchRow[]> {
  const agent = producer();
  const stores = await Promise.all([openStore({ databaseUrl: url }), openStore({ databaseUrl: url })]);
  const [a, b] = stores as [ForgeStore, ForgeStore];
  const polling = await openStore({ databaseUrl: url });
  const deafSql = Object.assign(Object.create(polling.sql), { listen: undefined }) as ForgeStore['sql'];
  const deaf: ForgeStore = { ...polling, sql: deafSql, runs: new RunStore(deafSql) };
  const managers = [
    await RunManager.create({ store: a, agents: async () => agent }),
    await RunManager.create({ store: b, agents: async () => agent, maxRunning: 0 }),
    await RunManager.create({ store: deaf, agents: async () => agent, maxRunning: 0 }),
  ];
  const [onA, onB, onDeaf] = managers as [RunManager, RunManager, RunManager];
  const lags = { local: [] as number[], notified: [] as number[], polled: [] as number[] };
  const follow = async (m: RunManager, requestId: string, into: number[], signal: AbortSignal) => {
    for await (const e of m.follow(requestId, 0, signal)) {
      into.push(Date.now() - e.time);
      if (e.type === 'run.completed') return;
    }
  };
  try {
    for (let i = 0; i < 5; i++) {
      const { run } = await onA.submit({
        userId: 'bench',
        agentId: `agt_bench${++agentNo}`,
        request: { prompt: 'paced:40:1' },
      });
      const stop = new AbortController();
      await Promise.all([
        follow(onA, run.requestId, lags.local, stop.signal),
        follow(onB, run.requestId, lags.notified, stop.signal),
        follow(onDeaf, run.requestId, lags.polled, stop.signal),
      ]);
      await onA.idle();
    }
  } finally {
    for (const m of managers) await m.close();
    for (const s of [a, b, polling]) await s.close();
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const [local, notified, polled] = [median(lags.local), median(lags.notified), median(lags.polled)];
  progress('PostgreSQL: follow lag');
  return [
    {
      name: 'PostgreSQL: an SSE reader on another replica, woken by NOTIFY — median lag from an event to its receipt (a run emitting every 10 ms)',
      unit: 'ms',
      ours: notified,
      baseline: polled,
      baselineName: 'the same reader polling the journal every 250 ms (no LISTEN)',
      note: `lower is better; a reader on the replica running it: ${local} ms`,
    },
  ];
}

/** An HTTP server streaming `events` as SSE; `read` fetches it whole and counts the frames. */
async function sseReplay(events: (signal: AbortSignal) => AsyncIterable<JournalEvent>) {
  const server = http.createServer((req, res) => void streamRun(req, res, 'req_bench', events, {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    async read() {
      const text = await (await fetch(url)).text();
      let frames = 0;
      for (let i = text.indexOf('\nid: '); i >= 0; i = text.indexOf('\nid: ', i + 1)) frames++;
      if (frames + (text.startsWith('id: ') ? 1 : 0) < N) throw new Error(`got ${frames} frames`);
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const bench: BenchModule = {
  title: 'platform store',
  async run() {
    const t0 = performance.now();
    // FORGE_PGLITE_WORKER=1: PGlite in a worker thread (the platform's default; the store's own is this thread).
    const pglite = await openStore({ memory: true, worker: process.env.FORGE_PGLITE_WORKER === '1' });
    const rows = await journalRows('PGlite', pglite).finally(() => pglite.close());
    const url = process.env.FORGE_BENCH_DATABASE_URL ?? process.env.FORGE_TEST_DATABASE_URL;
    if (url) {
      const pg = await openStore({ databaseUrl: url });
      try {
        await pg.sql.query(`delete from forge_runs where user_id = 'bench'`);
        rows.push(...(await journalRows('PostgreSQL', pg)));
        if (!queueOnly) rows.push(...(await followLag(url)));
        await pg.sql.query(`delete from forge_runs where user_id = 'bench'`);
      } finally {
        await pg.close();
      }
    } else {
      console.error(
        'platform store: PostgreSQL rows skipped (set FORGE_BENCH_DATABASE_URL or FORGE_TEST_DATABASE_URL)',
      );
    }
    console.error(`platform store: ${Math.round(performance.now() - t0)} ms`);
    return rows;
  },
};

export default bench;
