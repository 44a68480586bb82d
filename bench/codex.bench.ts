import { CodexEventMapper, CodexJsonlParser } from '@forge/codex/internal';
import type { AgentEventInit } from '@forge/core';
import { compare, type BenchModule } from './harness.js';

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
  title: 'codex: exec --json JSONL',
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
    ];
  },
};
export default bench;
