import type { AgentEventInit, RunningProcess } from '@forge/core';
import { JsonRpcClient, TurnMapper } from '@forge/codex/internal';
import { compare, type BenchModule } from './harness.js';

/**
 * `codex app-server`'s stdout as the adapter reads it: JSON-RPC notification lines of turns shaped like the
 * real CLI's (0.171.0 recordings: item/started, a run of item/agentMessage/delta, item/completed, a command
 * with its output, token usage, turn/completed), parsed by the JSON-RPC client and mapped by the turn mapper.
 */
const TURNS = 500;
const DELTAS = 180;
const ids = { threadId: 'thr_0198a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', turnId: 'turn_1' };

function turnLines(turn: number): string[] {
  const msg = `msg_${turn}`;
  const cmd = `call_${turn}`;
  const lines: { method: string; params: Record<string, unknown> }[] = [
    {
      method: 'turn/started',
      params: { ...ids, turn: { id: ids.turnId, items: [], status: 'inProgress', error: null } },
    },
    {
      method: 'item/started',
      params: {
        ...ids,
        item: {
          type: 'commandExecution',
          id: cmd,
          command: 'npm test',
          cwd: '/work/app',
          status: 'inProgress',
          aggregatedOutput: null,
          exitCode: null,
        },
      },
    },
    {
      method: 'item/completed',
      params: {
        ...ids,
        item: {
          type: 'commandExecution',
          id: cmd,
          command: 'npm test',
          cwd: '/work/app',
          status: 'completed',
          aggregatedOutput: 'PASS src/app.test.ts\n'.repeat(20),
          exitCode: 0,
        },
      },
    },
    { method: 'item/started', params: { ...ids, item: { type: 'agentMessage', id: msg, text: '' } } },
  ];
  for (let i = 0; i < DELTAS; i++)
    lines.push({ method: 'item/agentMessage/delta', params: { ...ids, itemId: msg, delta: `token${i} ` } });
  lines.push(
    {
      method: 'item/completed',
      params: { ...ids, item: { type: 'agentMessage', id: msg, text: 'All tests pass. '.repeat(40) } },
    },
    {
      method: 'thread/tokenUsage/updated',
      params: {
        ...ids,
        tokenUsage: {
          last: {
            inputTokens: 1200,
            cachedInputTokens: 800,
            cacheWriteInputTokens: 0,
            outputTokens: 300,
            reasoningOutputTokens: 40,
            totalTokens: 1500,
          },
        },
      },
    },
    {
      method: 'turn/completed',
      params: { ...ids, turn: { id: ids.turnId, items: [], status: 'completed', error: null } },
    },
  );
  return lines.map((l) => JSON.stringify(l));
}

const text = `${Array.from({ length: TURNS }, (_, t) => turnLines(t).join('\n')).join('\n')}\n`;
const bytes = new TextEncoder().encode(text);
const LINES = text.split('\n').length - 1;
const MB = bytes.length / 1e6;
const CHUNK = 64 * 1024;
const chunks: Uint8Array[] = [];
for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK));

/** A finished process whose stdout is the recorded chunks. */
function processOf(): RunningProcess {
  return {
    pid: undefined,
    stdout: (async function* () {
      yield* chunks;
    })(),
    stderr: (async function* () {})(),
    stdin: { write: async () => {}, end: async () => {} },
    kill: () => false,
    exited: Promise.resolve({ code: 0, signal: null }),
  };
}

async function ours(): Promise<number> {
  let events = 0;
  const emit = (_e: AgentEventInit) => {
    events++;
  };
  const mapper = new TurnMapper(ids.turnId, '/work/app');
  const client = new JsonRpcClient(processOf(), {
    notification: (method, params) => mapper.map(method, params, emit),
    request: () => {},
  });
  await client.done;
  return events;
}

/** The floor: split the same chunks into lines and JSON.parse each. */
async function bare(): Promise<number> {
  const decoder = new TextDecoder();
  let rest = '';
  let lines = 0;
  for await (const chunk of processOf().stdout) {
    rest += decoder.decode(chunk, { stream: true });
    let cut = rest.indexOf('\n');
    while (cut >= 0) {
      JSON.parse(rest.slice(0, cut));
      lines++;
      rest = rest.slice(cut + 1);
      cut = rest.indexOf('\n');
    }
  }
  return lines;
}

const bench: BenchModule = {
  title: 'codex app server',
  async run() {
    if ((await bare()) !== LINES) throw new Error('baseline line count');
    const r = await compare(MB, ours, bare);
    return [
      {
        name: 'parse + map of JSON-RPC lines (JsonRpcClient + TurnMapper)',
        unit: 'MB/s',
        ours: r.ours,
        baseline: r.baseline,
        baselineName: 'line-split + JSON.parse',
        goal: 0.8,
        note: `${LINES.toLocaleString('en-US')} lines, ${MB.toFixed(1)} MB in 64 KiB chunks`,
      },
    ];
  },
};
export default bench;
