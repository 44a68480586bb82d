import { performance } from 'node:perf_hooks';
import { createCodeAgent, defaultCapabilities } from '@forge/core';
import { openStore } from '@forge/store';
import { sqlSessionStore } from '@forge/store';
import { grpcAgent, linkedSessionStore, serveAgent } from '@forge/transport-grpc';
import type { BenchModule } from './harness.js';

const TURNS = 50;

/**
 * One turn of a Claude Code session file as the CLI appends it (a user line, tool use and result, the
 * assistant's answer; ~6 KB, the size the CLI 2.1 wrote per turn against the fake API), synthetic but
 * shaped like the real `.jsonl`.
 */
function turnLines(turn: number): string {
  const base = { sessionId: 'bench-session', cwd: '/work/app', version: '2.1.197', gitBranch: 'main' };
  const lines = [
    {
      ...base,
      type: 'user',
      uuid: `u-${turn}`,
      message: { role: 'user', content: `Step ${turn}: fix the next failing test` },
    },
    {
      ...base,
      type: 'assistant',
      uuid: `a-${turn}-1`,
      message: {
        role: 'assistant',
        content: [
          {
            type: 'tool_use',
            id: `t-${turn}`,
            name: 'Edit',
            input: { file_path: 'src/app.ts', old_string: 'a'.repeat(800), new_string: 'b'.repeat(800) },
          },
        ],
      },
    },
    {
      ...base,
      type: 'user',
      uuid: `r-${turn}`,
      message: {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: `t-${turn}`, content: 'x'.repeat(2_000) }],
      },
    },
    {
      ...base,
      type: 'assistant',
      uuid: `a-${turn}-2`,
      message: { role: 'assistant', content: [{ type: 'text', text: 'Done. '.repeat(250) }] },
    },
  ];
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}

/** Saves TURNS turns, each either as the new bytes or as the whole file so far; ms per turn, first and last ten. */
async function saveTurns(
  incremental: boolean,
): Promise<{ perTurn: number; first: number; last: number; bytes: number }> {
  const store = await openStore({ memory: true });
  try {
    const sessions = sqlSessionStore(store.sql);
    const key = { provider: 'claude-code', sessionId: incremental ? 'inc' : 'whole' };
    const encoder = new TextEncoder();
    let file = new Uint8Array();
    let bytes = 0;
    const times: number[] = [];
    for (let turn = 0; turn < TURNS; turn++) {
      const added = encoder.encode(turnLines(turn));
      const from = file.length;
      const next = new Uint8Array(file.length + added.length);
      next.set(file);
      next.set(added, file.length);
      file = next;
      const t0 = performance.now();
      await sessions.save(key, {
        files: [incremental ? { path: 's.jsonl', data: added, from } : { path: 's.jsonl', data: file }],
      });
      times.push(performance.now() - t0);
      bytes += incremental ? added.length : file.length;
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { perTurn: mean(times), first: mean(times.slice(0, 10)), last: mean(times.slice(-10)), bytes };
  } finally {
    await store.close();
  }
}

/**
 * The same incremental saves made by an agent served over gRPC (a pod): each turn is one run whose save goes as a
 * session call on the run's Connect stream to the client, which stores it on PGlite. ms per save, as the pod sees it.
 */
async function saveTurnsOverLink(): Promise<{ perTurn: number; first: number; last: number }> {
  const store = await openStore({ memory: true });
  const pod = linkedSessionStore();
  const encoder = new TextEncoder();
  const times: number[] = [];
  let stored = 0;
  const agent = createCodeAgent({
    provider: 'bench',
    declared: defaultCapabilities(),
    async run(ctx) {
      const added = encoder.encode(turnLines(Number(ctx.request.prompt)));
      const t0 = performance.now();
      await pod.save(
        { provider: 'claude-code', sessionId: 'linked' },
        { files: [{ path: 's.jsonl', data: added, ...(stored ? { from: stored } : {}) }] },
      );
      times.push(performance.now() - t0);
      stored += added.length;
      return { text: 'ok', sessionId: 'linked' };
    },
  });
  const server = await serveAgent(agent, { port: 0, sessionStore: pod });
  const client = grpcAgent({ baseUrl: server.url, sessionStore: sqlSessionStore(store.sql) });
  try {
    // The first run's session is new to the store; later ones resume it, as a conversation's turns do.
    for (let turn = 0; turn < TURNS; turn++)
      await client.execute({ prompt: String(turn), ...(turn ? { sessionId: 'linked' } : {}) }).result;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { perTurn: mean(times), first: mean(times.slice(0, 10)), last: mean(times.slice(-10)) };
  } finally {
    await client.close();
    await server.close({ graceful: false });
    await store.close();
  }
}

export default {
  title: 'sessions',
  async run() {
    await saveTurns(true); // warm-up: PGlite's first queries compile
    const whole = await saveTurns(false);
    const inc = await saveTurns(true);
    await saveTurnsOverLink(); // warm-up
    const linked = await saveTurnsOverLink();
    return [
      {
        name: `snapshot per turn, ${TURNS} turns of a Claude session on PGlite (incremental vs whole file)`,
        unit: 'ms/turn',
        lowerIsBetter: true,
        ours: inc.perTurn,
        baseline: whole.perTurn,
        baselineName: 'whole file each turn',
        goalMax: 5,
        note: `incremental: turns 1-10 ${inc.first.toFixed(2)} ms, 41-50 ${inc.last.toFixed(2)} ms, ${Math.round(inc.bytes / 1024)} KiB sent; whole: 1-10 ${whole.first.toFixed(2)} ms, 41-50 ${whole.last.toFixed(2)} ms, ${Math.round(whole.bytes / 1024)} KiB`,
      },
      {
        name: `snapshot per turn from a pod, ${TURNS} turns: incremental saves as session calls over gRPC (loopback) into PGlite vs the same saves in-process`,
        unit: 'ms/turn',
        lowerIsBetter: true,
        ours: linked.perTurn,
        baseline: inc.perTurn,
        baselineName: 'incremental in-process',
        goalMax: 5,
        note: `over the link: turns 1-10 ${linked.first.toFixed(2)} ms, 41-50 ${linked.last.toFixed(2)} ms`,
      },
    ];
  },
} satisfies BenchModule;
