import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { codex, type CodexOptions } from '@forge/codex';
import { CodexEventMapper, CodexJsonlParser } from '@forge/codex/internal';
import { codexBinPath, fakeResponsesProvider, startFakeResponsesApi } from '@forge/codex/testing';
import type { AgentEventInit } from '@forge/core';
import { compare, type BenchModule, type BenchRow } from './harness.js';

const LINES = 100_000;
const CHUNK = 64 * 1024; // what a pipe hands over at a time

/**
 * A long `codex exec --json` session as the CLI prints it (0.171.0): per step, a reasoning
 * item, an agent message, a command started and completed with its output, a file change, a
 * todo-list update, a retry notice now and then; the turn's usage at the end.
 */
function generate(lines: number): string {
  const out: string[] = [];
  const push = (s: string) => out.push(s);
  push('{"type":"thread.started","thread_id":"01a233fe-82fd-7390-9683-53399fac15cf"}');
  push(
    '{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `fake-model` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}',
  );
  push('{"type":"turn.started"}');
  let n = 1;
  let step = 0;
  while (out.length < lines - 1) {
    step++;
    const words: string[] = [];
    for (let i = 0; i < 24; i++)
      words.push(
        `word${(step * 31 + i) % 977}${i % 5 === 0 ? ' and \\"quoted\\"' : ''}${i % 7 === 0 ? ' ünïcödé ✓' : ''}`,
      );
    const text = words.join(' ');
    push(`{"type":"item.completed","item":{"id":"item_${n++}","type":"reasoning","text":"**Planning** ${text}"}}`);
    push(`{"type":"item.completed","item":{"id":"item_${n++}","type":"agent_message","text":"${text}"}}`);
    const cmd = `/bin/bash -lc 'ls -la src/${step}'`;
    const id = `item_${n++}`;
    push(
      `{"type":"item.started","item":{"id":"${id}","type":"command_execution","command":"${cmd}","aggregated_output":"","exit_code":null,"status":"in_progress"}}`,
    );
    const listing =
      'total 24\\ndrwxr-xr-x 2 dev dev 4096 Nov 24 12:00 .\\n-rw-r--r-- 1 dev dev 1234 Nov 24 12:00 index.ts\\n';
    push(
      `{"type":"item.completed","item":{"id":"${id}","type":"command_execution","command":"${cmd}","aggregated_output":"${listing}","exit_code":0,"status":"completed"}}`,
    );
    push(
      `{"type":"item.completed","item":{"id":"item_${n++}","type":"file_change","changes":[{"path":"/home/dev/project/src/${step}.ts","kind":"update"}],"status":"completed"}}`,
    );
    push(
      `{"type":"item.updated","item":{"id":"item_todo","type":"todo_list","items":[{"text":"read the code","completed":true},{"text":"step ${step}","completed":false}]}}`,
    );
    if (step % 10 === 0)
      push(
        '{"type":"error","message":"Reconnecting... 1/5 (We’re currently experiencing high demand, which may cause temporary errors.)"}',
      );
  }
  out.length = lines - 1;
  push(
    '{"type":"turn.completed","usage":{"input_tokens":2031900,"cached_input_tokens":1800000,"cache_write_input_tokens":0,"output_tokens":92400,"reasoning_output_tokens":4000}}',
  );
  return `${out.join('\n')}\n`;
}

const bytes = new TextEncoder().encode(generate(LINES));
const chunks: Uint8Array[] = [];
for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK));
const MB = bytes.length / 1e6;

/** Bare: decode each chunk, cut at '\n', JSON.parse every line. Nothing else. */
function bare(): number {
  const decoder = new TextDecoder();
  let carry = '';
  let count = 0;
  for (const chunk of chunks) {
    const text = carry + decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      if (nl > start) {
        JSON.parse(text.slice(start, nl));
        count++;
      }
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  if (carry) {
    JSON.parse(carry);
    count++;
  }
  return count;
}

/** Ours, as the adapter runs it: incremental parser + mapper to core events. */
function ours(): number {
  const mapper = new CodexEventMapper();
  let events = 0;
  const emit = (_e: AgentEventInit) => {
    events++;
  };
  let lines = 0;
  const parser = new CodexJsonlParser((item) => {
    lines++;
    mapper.mapItem(item, emit);
  });
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  if (lines !== LINES || !mapper.completed) throw new Error(`parsed ${lines} lines`);
  return events;
}

const bench: BenchModule = {
  title: 'codex',
  async run() {
    if (bare() !== LINES) throw new Error('baseline line count');
    const sync = await compare(MB, ours, bare);
    const lines = await compare(LINES, ours, bare);
    return [
      {
        name: 'parse + map (CodexJsonlParser + CodexEventMapper)',
        unit: 'MB/s',
        ours: sync.ours,
        baseline: sync.baseline,
        baselineName: 'line-split + JSON.parse',
        goal: 0.8,
        note: `${LINES.toLocaleString('en-US')} lines, ${MB.toFixed(1)} MB in 64 KiB chunks`,
      },
      {
        name: 'parse + map, lines',
        unit: 'lines/s',
        ours: lines.ours,
        baseline: lines.baseline,
        baselineName: 'line-split + JSON.parse',
        goal: 0.8,
      },
      ...(await followUpTurns()),
      ...(await firstTurns()),
    ];
  },
};

const TURNS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The real CLI against the fake Responses API: a follow-up turn of an existing session with a one-line answer,
 * timed from `execute` to `run.completed`. Warm: `transport: 'app-server'`, the thread already loaded in the
 * live server. Cold: `transport: 'exec'`, what a follow-up costs today (`codex exec resume`, a process per
 * turn). Interleaved; each has its own session.
 */
async function followUpTurns(): Promise<BenchRow[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'forge-bench-codex-'));
  await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
  const api = await startFakeResponsesApi({ respond: () => ({ text: 'One line.' }) });
  const options: CodexOptions = {
    bin: codexBinPath(),
    cwd: scratch,
    model: 'fake-model',
    provider: fakeResponsesProvider(api.url),
    env: { HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') },
  };
  const warmAgent = codex({ ...options, transport: 'app-server' });
  const coldAgent = codex({ ...options, transport: 'exec' });
  try {
    const start = async (agent: ReturnType<typeof codex>) => {
      const first = await agent.execute({ prompt: 'start' }).result;
      if (first.status !== 'completed') throw new Error(`first turn ${first.status}: ${first.error?.message}`);
      return first.sessionId!;
    };
    const [warmSession, coldSession] = [await start(warmAgent), await start(coldAgent)];
    const turn = async (agent: ReturnType<typeof codex>, sessionId: string) => {
      const t0 = performance.now();
      const result = await agent.execute({ prompt: 'again, in one line', sessionId }).result;
      const ms = performance.now() - t0;
      if (result.status !== 'completed') throw new Error(`turn ${result.status}: ${result.error?.message}`);
      return ms;
    };
    await turn(warmAgent, warmSession);
    const warm: number[] = [];
    const cold: number[] = [];
    for (let i = 0; i < TURNS; i++) {
      cold.push(await turn(coldAgent, coldSession));
      warm.push(await turn(warmAgent, warmSession));
    }
    return [
      {
        name: 'follow-up turn, warm vs cold (real CLI, fake API), median execute → run.completed',
        unit: 'ms',
        ours: median(warm),
        baseline: median(cold),
        baselineName: 'cold `exec resume` process',
        note: `lower is better; app-server thread loaded vs a process per turn; ${TURNS} turns each, load average ${loadavg()[0]!.toFixed(1)}`,
      },
    ];
  } finally {
    await warmAgent.close?.();
    await api.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A new thread's first turn on the app server, the real CLI against the fake Responses API, `execute` →
 * `run.completed`. Prewarmed: an agent made with `prewarm: {}` (its server started and initialized once the
 * agent was made; each turn a new thread). Cold: a fresh agent per turn, its server started by the request (its
 * close not timed). Interleaved.
 */
async function firstTurns(): Promise<BenchRow[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'forge-bench-codex-'));
  await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
  const api = await startFakeResponsesApi({ respond: () => ({ text: 'One line.' }) });
  const options: CodexOptions = {
    bin: codexBinPath(),
    cwd: scratch,
    model: 'fake-model',
    provider: fakeResponsesProvider(api.url),
    env: { HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') },
  };
  const prewarmed = codex({ ...options, prewarm: {} });
  try {
    const turn = async (agent: ReturnType<typeof codex>) => {
      const t0 = performance.now();
      const result = await agent.execute({ prompt: 'hello, in one line' }).result;
      const ms = performance.now() - t0;
      if (result.status !== 'completed') throw new Error(`turn ${result.status}: ${result.error?.message}`);
      return ms;
    };
    const cold = async () => {
      const agent = codex(options);
      try {
        return await turn(agent);
      } finally {
        await agent.close?.();
      }
    };
    // The prewarmed agent's server has started by the time a service's first request comes.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const warm: number[] = [];
    const coldMs: number[] = [];
    for (let i = 0; i < TURNS; i++) {
      coldMs.push(await cold());
      warm.push(await turn(prewarmed));
    }
    const w = median(warm);
    const c = median(coldMs);
    return [
      {
        name: "new thread's first turn, prewarmed vs cold (real CLI, fake API), median execute → run.completed",
        unit: 'ms',
        ours: w,
        baseline: c,
        baselineName: 'cold app server start',
        note: `lower is better; ${TURNS} turns each, load average ${loadavg()[0]!.toFixed(1)}; goal prewarmed ≤ 150 ms: ${w <= 150 ? 'met' : 'MISSED'}`,
      },
    ];
  } finally {
    await prewarmed.close?.();
    await api.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
export default bench;
