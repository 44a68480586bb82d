import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { claudeCode } from '@forge/claude-code';
import { ClaudeEventMapper, parseStreamJson, StreamJsonParser } from '@forge/claude-code/internal';
import { claudeBinPath, fakeAnthropicEnv, startFakeAnthropicApi } from '@forge/claude-code/testing';
import type { AgentEventInit } from '@forge/core';
import { compare, type BenchModule, type BenchRow } from './harness.js';

const LINES = 100_000;
const CHUNK = 64 * 1024; // what a pipe hands over at a time

/**
 * A stream-json run as the CLI prints it with --include-partial-messages: per turn, the raw API
 * events (message_start, block start/stop, many text deltas, tool input deltas, message_delta,
 * message_stop), the whole assistant lines, the user line with the tool result, a status line;
 * and a result at the end.
 */
function generate(lines: number): string {
  const session = '02e2987c-6721-443b-9ae2-3c2083a21bd8';
  const env = `"session_id":"${session}","parent_tool_use_id":null`;
  const uuid = (n: number) => `"uuid":"6aef84a4-5e07-45db-9c94-${String(n).padStart(12, '0')}"`;
  const out: string[] = [];
  const push = (s: string) => out.push(s);
  push(
    JSON.stringify({
      type: 'system',
      subtype: 'init',
      cwd: '/home/dev/project',
      session_id: session,
      tools: ['Task', 'Bash', 'Edit', 'Read', 'Write', 'WebFetch'],
      mcp_servers: [],
      model: 'claude-opus-4-8',
      permissionMode: 'default',
      apiKeySource: 'ANTHROPIC_API_KEY',
      claude_code_version: '2.1.197',
    }),
  );
  let turn = 0;
  while (out.length < lines - 1) {
    turn++;
    const id = `msg_${turn.toString(36).padStart(8, '0')}`;
    const usage =
      '{"input_tokens":1200,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":800}';
    push(`{"type":"system","subtype":"status","status":"requesting",${uuid(out.length)},"session_id":"${session}"}`);
    push(
      `{"type":"stream_event","event":{"type":"message_start","message":{"id":"${id}","type":"message","role":"assistant","model":"claude-opus-4-8","content":[],"stop_reason":null,"stop_sequence":null,"usage":${usage}}},${env},${uuid(out.length)}}`,
    );
    push(
      `{"type":"stream_event","event":{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}},${env},${uuid(out.length)}}`,
    );
    const words: string[] = [];
    for (let i = 0; i < 24; i++) {
      const w = `word${(turn * 31 + i) % 977} ${i % 5 === 0 ? 'and \\"quoted\\" ' : ''}${i % 7 === 0 ? 'ünïcödé ✓ ' : ''}`;
      words.push(w);
      push(
        `{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${w}"}},${env},${uuid(out.length)}}`,
      );
    }
    const text = words.join('');
    push(
      `{"type":"assistant","message":{"id":"${id}","type":"message","role":"assistant","model":"claude-opus-4-8","content":[{"type":"text","text":"${text}"}],"stop_reason":null,"stop_sequence":null,"usage":${usage},"context_management":null},${env},${uuid(out.length)}}`,
    );
    push(`{"type":"stream_event","event":{"type":"content_block_stop","index":0},${env},${uuid(out.length)}}`);
    const tool = `toolu_${turn.toString(36).padStart(8, '0')}`;
    push(
      `{"type":"stream_event","event":{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"${tool}","name":"Bash","input":{}}},${env},${uuid(out.length)}}`,
    );
    push(
      `{"type":"stream_event","event":{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"command\\":\\"ls -la src/"}},${env},${uuid(out.length)}}`,
    );
    push(
      `{"type":"stream_event","event":{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"${turn}\\",\\"description\\":\\"list\\"}"}},${env},${uuid(out.length)}}`,
    );
    push(
      `{"type":"assistant","message":{"id":"${id}","type":"message","role":"assistant","model":"claude-opus-4-8","content":[{"type":"tool_use","id":"${tool}","name":"Bash","input":{"command":"ls -la src/${turn}","description":"list"}}],"stop_reason":null,"stop_sequence":null,"usage":${usage},"context_management":null},${env},${uuid(out.length)}}`,
    );
    push(`{"type":"stream_event","event":{"type":"content_block_stop","index":1},${env},${uuid(out.length)}}`);
    push(
      `{"type":"stream_event","event":{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":87}},${env},${uuid(out.length)}}`,
    );
    push(`{"type":"stream_event","event":{"type":"message_stop"},${env},${uuid(out.length)}}`);
    const listing =
      'total 24\\ndrwxr-xr-x 2 dev dev 4096 Nov 24 12:00 .\\n-rw-r--r-- 1 dev dev 1234 Nov 24 12:00 index.ts';
    push(
      `{"type":"user","message":{"role":"user","content":[{"tool_use_id":"${tool}","type":"tool_result","content":"${listing}","is_error":false}]},${env},${uuid(out.length)},"timestamp":"2026-11-24T12:34:37.875Z","tool_use_result":{"stdout":"${listing}","stderr":"","interrupted":false,"isImage":false}}`,
    );
  }
  out.length = lines - 1;
  push(
    `{"type":"result","subtype":"success","is_error":false,"duration_ms":156000,"duration_api_ms":53000,"num_turns":${turn},"result":"Done.","stop_reason":"end_turn","session_id":"${session}","total_cost_usd":1.23,"usage":{"input_tokens":24000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":9000}}`,
  );
  return `${out.join('\n')}\n`;
}

const bytes = new TextEncoder().encode(generate(LINES));
const chunks: Uint8Array[] = [];
for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK));
const MB = bytes.length / 1e6;

/** Bare: decode each chunk, cut at '\n', JSON.parse every line. Nothing else. */
class BareLines {
  private readonly decoder = new TextDecoder();
  private carry = '';
  count = 0;

  push(chunk: Uint8Array): void {
    const text = this.carry + this.decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      if (nl > start) {
        JSON.parse(text.slice(start, nl));
        this.count++;
      }
      start = nl + 1;
    }
    this.carry = text.slice(start);
  }

  end(): number {
    if (this.carry) {
      JSON.parse(this.carry);
      this.count++;
    }
    return this.count;
  }
}

function bare(): number {
  const lines = new BareLines();
  for (const chunk of chunks) lines.push(chunk);
  return lines.end();
}

/** Ours, as the adapter runs it: incremental parser + mapper to core events. */
function ours(): number {
  const mapper = new ClaudeEventMapper();
  let events = 0;
  const emit = (_e: AgentEventInit) => {
    events++;
  };
  let lines = 0;
  const parser = new StreamJsonParser((item) => {
    lines++;
    mapper.mapItem(item, emit);
  });
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  if (lines !== LINES || !mapper.result) throw new Error(`parsed ${lines} lines`);
  return events;
}

/** Bare, at its most favourable: the whole stream decoded at once and split in one call. */
function bareWhole(): number {
  let n = 0;
  for (const l of new TextDecoder().decode(bytes).split('\n')) {
    if (l) {
      JSON.parse(l);
      n++;
    }
  }
  return n;
}

async function* source() {
  for (const c of chunks) yield c;
}

async function oursAsync(): Promise<number> {
  const mapper = new ClaudeEventMapper();
  let events = 0;
  for await (const item of parseStreamJson(source())) mapper.mapItem(item, () => events++);
  return events;
}

async function bareAsync(): Promise<number> {
  const lines = new BareLines();
  for await (const chunk of source()) lines.push(chunk);
  return lines.end();
}

const bench: BenchModule = {
  title: 'claude-code: stream-json',
  async run() {
    if (bare() !== LINES) throw new Error('baseline line count');
    const sync = await compare(MB, ours, bare);
    const lines = await compare(LINES, ours, bare);
    const whole = await compare(MB, ours, bareWhole);
    const asyncRow = await compare(MB, oursAsync, bareAsync);
    const note = `${LINES.toLocaleString('en-US')} lines, ${MB.toFixed(1)} MB in 64 KiB chunks`;
    return [
      {
        name: 'parse + map (StreamJsonParser + ClaudeEventMapper)',
        unit: 'MB/s',
        ours: sync.ours,
        baseline: sync.baseline,
        baselineName: 'line-split + JSON.parse',
        goal: 0.8,
        note,
      },
      {
        name: 'parse + map, lines',
        unit: 'lines/s',
        ours: lines.ours,
        baseline: lines.baseline,
        baselineName: 'line-split + JSON.parse',
        goal: 0.8,
      },
      {
        name: 'parse + map vs one whole-buffer split',
        unit: 'MB/s',
        ours: whole.ours,
        baseline: whole.baseline,
        baselineName: 'decode all + split + JSON.parse',
      },
      {
        name: 'parseStreamJson async iterable + map',
        unit: 'MB/s',
        ours: asyncRow.ours,
        baseline: asyncRow.baseline,
        baselineName: 'for-await line-split + JSON.parse',
      },
      ...(await followUpTurns()),
      ...(await firstTurns()),
    ];
  },
};

const TURNS = 9;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The real CLI against the fake Messages API: a follow-up turn of an existing session with a one-line answer,
 * timed from `execute` to `run.completed`. Warm: written into the session's live process. Cold: what a turn
 * costs without one, a fresh agent whose CLI starts with `--resume` (its close is not timed). Interleaved.
 */
async function followUpTurns(): Promise<BenchRow[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'forge-bench-claude-'));
  const api = await startFakeAnthropicApi({ respond: () => ({ text: 'One line.' }) });
  const options = {
    bin: claudeBinPath(),
    cwd: scratch,
    env: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home') },
  };
  const warmAgent = claudeCode(options);
  try {
    const first = await warmAgent.execute({ prompt: 'start' }).result;
    if (first.status !== 'completed') throw new Error(`first turn ${first.status}: ${first.error?.message}`);
    const sessionId = first.sessionId!;
    const turn = async (agent: ReturnType<typeof claudeCode>) => {
      const t0 = performance.now();
      const result = await agent.execute({ prompt: 'again, in one line', sessionId }).result;
      const ms = performance.now() - t0;
      if (result.status !== 'completed') throw new Error(`turn ${result.status}: ${result.error?.message}`);
      return ms;
    };
    await turn(warmAgent);
    const warm: number[] = [];
    const cold: number[] = [];
    for (let i = 0; i < TURNS; i++) {
      const coldAgent = claudeCode(options);
      cold.push(await turn(coldAgent));
      await coldAgent.close?.();
      warm.push(await turn(warmAgent));
    }
    const w = median(warm);
    const c = median(cold);
    const met = w <= 100 && w <= 0.15 * c;
    return [
      {
        name: 'follow-up turn, warm vs cold (real CLI, fake API), median execute → run.completed',
        unit: 'ms',
        ours: w,
        baseline: c,
        baselineName: 'cold `--resume` start',
        note: `lower is better; ${TURNS} turns each, load average ${loadavg()[0]!.toFixed(1)}; goal warm ≤ 100 ms and ≤ 0.15× cold: ${met ? 'met' : 'MISSED'}`,
      },
    ];
  } finally {
    await warmAgent.close?.();
    await api.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A new session's first turn with the real CLI against the fake Messages API, `execute` → `run.completed`.
 * Prewarmed: an agent with `prewarm: { count: 1 }` whose spare has had time to start (as between a service's
 * requests). Cold: the same agent without it, the CLI started by the request. Interleaved; closes not timed.
 */
async function firstTurns(): Promise<BenchRow[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'forge-bench-claude-'));
  const api = await startFakeAnthropicApi({ respond: () => ({ text: 'One line.' }) });
  const options = {
    bin: claudeBinPath(),
    cwd: scratch,
    env: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home') },
    // The session's process is kept after its first turn, as by default, so ending it is not timed.
    warmSessions: { max: 1 },
  };
  const prewarmed = claudeCode({ ...options, prewarm: { count: 1 } });
  const cold = claudeCode(options);
  const turn = async (agent: ReturnType<typeof claudeCode>) => {
    const t0 = performance.now();
    const result = await agent.execute({ prompt: 'hello, in one line' }).result;
    const ms = performance.now() - t0;
    if (result.status !== 'completed') throw new Error(`turn ${result.status}: ${result.error?.message}`);
    return ms;
  };
  // The time a spare takes to start and load on this loaded machine, so each prewarmed turn finds it ready.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5_000));
  try {
    await settle();
    await turn(prewarmed);
    await turn(cold);
    const warm: number[] = [];
    const coldMs: number[] = [];
    for (let i = 0; i < TURNS; i++) {
      await settle();
      warm.push(await turn(prewarmed));
      coldMs.push(await turn(cold));
    }
    const w = median(warm);
    const c = median(coldMs);
    const met = w <= 150 && w <= 0.2 * c;
    return [
      {
        name: "new session's first turn, prewarmed vs cold (real CLI, fake API), median execute → run.completed",
        unit: 'ms',
        ours: w,
        baseline: c,
        baselineName: 'cold CLI start',
        note: `lower is better; ${TURNS} turns each, load average ${loadavg()[0]!.toFixed(1)}; goal prewarmed ≤ 150 ms and ≤ 0.2× cold: ${met ? 'met' : 'MISSED'}`,
      },
    ];
  } finally {
    await prewarmed.close?.();
    await cold.close?.();
    await api.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
export default bench;
