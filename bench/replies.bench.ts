import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ScriptStep } from '@forge/core/testing';
import { scriptedAgent } from '@forge/core/testing';
import { RunManager } from '@forge/example-platform/run-manager';
import { openStore, type ForgeStore } from '@forge/store';
import { compare, type BenchModule, type BenchRow } from './harness.js';

/** Permission requests per run, each answered before the next is asked (a reply is a round trip). */
const K = Number(process.env.BENCH_REPLIES ?? 200);
/** Runs waiting on a permission at once, for the burst row. */
const C = Number(process.env.BENCH_REPLIES_AT_ONCE ?? 200);

const steps: ScriptStep[] = Array.from({ length: K }, (_, i) => [
  { type: 'permission.requested' as const, id: `p${i}`, tool: 'Bash', input: {} },
  { awaitPermission: `p${i}` },
]).flat();

let agentNo = 0;

/**
 * Replies per second through another replica (a run command: insert + NOTIFY, the owner takes it,
 * applies it, settles it + NOTIFY, the sender reads the outcome and deletes the row) against the
 * same replies sent to the replica running the run. A: executes; B: runs nothing, relays.
 */
async function rows(label: string, a: ForgeStore, b: ForgeStore): Promise<BenchRow[]> {
  const agent = scriptedAgent({ steps });
  // Heartbeats and the reply poll an hour apart: NOTIFY alone carries the replies.
  const timing = { pollMs: 3_600_000, followPollMs: 3_600_000 };
  const owner = await RunManager.create({ store: a, agents: async () => agent, ...timing });
  const relay = await RunManager.create({ store: b, agents: async () => undefined, maxRunning: 0, ...timing });
  try {
    const replies = (via: RunManager) => async () => {
      const agentId = `agt_replies${++agentNo}`;
      const { run } = await owner.submit({ userId: 'bench', agentId, request: { prompt: 'x' } });
      for (let i = 0; i < K; i++) {
        const id = `p${i}`;
        while (!owner.local(run.requestId)?.pendingPermissions.has(id)) await new Promise((r) => setImmediate(r));
        await via.respond('bench', agentId, id, 'allow');
      }
      await owner.idle();
    };
    const r = await compare(K, replies(relay), replies(owner), 3);
    return [
      {
        name: `permission replies through another replica (${label}, NOTIFY), ${K} in a row`,
        unit: 'replies/s',
        ours: r.ours,
        baseline: r.baseline,
        baselineName: 'the same replies sent to the replica running the run',
      },
    ];
  } finally {
    await relay.close();
    await owner.close();
  }
}

/**
 * C runs each waiting on one permission, C replies sent together (as many people clicking at
 * once): the owner takes them per wake-up and settles them in one statement. Managers of their own,
 * so no other manager on the store claims these runs.
 */
async function burstRows(label: string, a: ForgeStore, b: ForgeStore): Promise<BenchRow[]> {
  const timing = { pollMs: 3_600_000, followPollMs: 3_600_000 };
  const one = scriptedAgent({ steps: steps.slice(0, 2) });
  const wide = await RunManager.create({ store: a, agents: async () => one, maxRunning: C, ...timing });
  const wideRelay = await RunManager.create({ store: b, agents: async () => undefined, maxRunning: 0, ...timing });
  let cpuMs = Number.POSITIVE_INFINITY;
  const burst = (via: RunManager) => async () => {
    const agents = Array.from({ length: C }, () => `agt_replies${++agentNo}`);
    const started = await Promise.all(
      agents.map((agentId) => wide.submit({ userId: 'bench', agentId, request: { prompt: 'x' } })),
    );
    for (const { run } of started)
      while (!wide.local(run.requestId)?.pendingPermissions.has('p0')) await new Promise((r) => setTimeout(r, 1));
    const [t0, cpu0] = [performance.now(), process.cpuUsage()];
    await Promise.all(agents.map((agentId) => via.respond('bench', agentId, 'p0', 'allow')));
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    // Both replicas are this process: its CPU time is the whole cost of the replies (the load does not move it).
    if (via === wideRelay) cpuMs = Math.min(cpuMs, (cpu.user + cpu.system) / 1000 / C);
    await wide.idle();
    return ms;
  };
  const best = { ours: Number.POSITIVE_INFINITY, base: Number.POSITIVE_INFINITY };
  try {
    for (let i = 0; i < 3; i++) {
      best.base = Math.min(best.base, await burst(wide)());
      best.ours = Math.min(best.ours, await burst(wideRelay)());
    }
  } finally {
    await wideRelay.close();
    await wide.close();
  }
  return [
    {
      name: `permission replies through another replica (${label}, NOTIFY), ${C} at once`,
      unit: 'replies/s',
      ours: C / (best.ours / 1000),
      baseline: C / (best.base / 1000),
      baselineName: 'the same replies sent to the replica running the runs',
      goalMin: 1_000,
      note: `CPU ${cpuMs.toFixed(2)} ms a reply (${Math.round(1000 / cpuMs)} replies/s of one core); load ${os.loadavg()[0]!.toFixed(1)}`,
    },
  ];
}

const bench: BenchModule = {
  title: 'platform replies',
  async run() {
    const t0 = performance.now();
    // FORGE_PGLITE_WORKER=1: PGlite in a worker thread (the platform's default; the store's own is this thread).
    const pglite = await openStore({ memory: true, worker: process.env.FORGE_PGLITE_WORKER === '1' });
    // One PGlite serves one process: two managers on it, not exclusive, as the tests have them.
    const shared = { ...pglite, exclusive: false };
    const out = await rows('PGlite', shared, shared)
      .then(async (r) => [...r, ...(await burstRows('PGlite', shared, shared))])
      .finally(() => pglite.close());
    const url = process.env.FORGE_BENCH_DATABASE_URL ?? process.env.FORGE_TEST_DATABASE_URL;
    if (url) {
      const [a, b] = [await openStore({ databaseUrl: url }), await openStore({ databaseUrl: url })];
      try {
        out.push(...(await rows('PostgreSQL', a, b)), ...(await burstRows('PostgreSQL', a, b)));
        await a.sql.query(`delete from forge_runs where user_id = 'bench' and agent_id like 'agt_replies%'`);
      } finally {
        await a.close();
        await b.close();
      }
    } else {
      console.error(
        'platform replies: PostgreSQL row skipped (set FORGE_BENCH_DATABASE_URL or FORGE_TEST_DATABASE_URL)',
      );
    }
    console.error(`platform replies: ${Math.round(performance.now() - t0)} ms`);
    return out;
  },
};

export default bench;
