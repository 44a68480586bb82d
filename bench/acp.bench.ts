import { type AnyMessage, ndJsonStream } from '@agentclientprotocol/sdk';
import { parseSessionNotification, SessionUpdateMapper, tapUpdates } from '@forge/acp/internal';
import type { AgentEventInit } from '@forge/core';
import { type BenchModule, compare } from './harness.js';

const FRAMES = 100_000;
const CHUNK = 64 * 1024; // what a pipe hands over at a time

/**
 * `session/update` notifications as the agents send them (shapes from the recorded Gemini and
 * claude-code-acp transcripts): per turn, many `agent_message_chunk`s, a thought, a `tool_call`
 * sent twice (claude), a progress `tool_call_update` and the final one, a plan now and then.
 */
function generate(frames: number): string {
  const sessionId = '126b7dd3-3606-4c19-bb0e-e9d71051843b';
  const out: string[] = [];
  const note = (update: Record<string, unknown>) =>
    out.push(JSON.stringify({ jsonrpc: '2.0', method: 'session/update', params: { sessionId, update } }));
  let turn = 0;
  while (out.length < frames) {
    turn++;
    note({ sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: `thinking about step ${turn}` } });
    for (let i = 0; i < 24; i++) {
      const text = `word${(turn * 31 + i) % 977} ${i % 5 === 0 ? 'and "quoted" ' : ''}${i % 7 === 0 ? 'ünïcödé ✓ ' : ''}`;
      note({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text } });
    }
    const toolCallId = `toolu_${turn.toString(36).padStart(8, '0')}`;
    const meta = { claudeCode: { toolName: 'Bash' } };
    note({
      _meta: meta,
      toolCallId,
      sessionUpdate: 'tool_call',
      rawInput: {},
      status: 'pending',
      title: 'Terminal',
      kind: 'execute',
      content: [],
    });
    note({
      _meta: meta,
      toolCallId,
      sessionUpdate: 'tool_call',
      rawInput: { command: `ls -la src/${turn}`, description: 'list' },
      status: 'pending',
      title: `\`ls -la src/${turn}\``,
      kind: 'execute',
      content: [{ type: 'content', content: { type: 'text', text: 'list' } }],
    });
    const listing =
      'total 24\ndrwxr-xr-x 2 dev dev 4096 Nov 24 12:00 .\n-rw-r--r-- 1 dev dev 1234 Nov 24 12:00 index.ts';
    note({
      _meta: { claudeCode: { toolName: 'Bash', toolResponse: { stdout: listing, stderr: '' } } },
      toolCallId,
      sessionUpdate: 'tool_call_update',
    });
    note({
      _meta: meta,
      toolCallId,
      sessionUpdate: 'tool_call_update',
      status: 'completed',
      rawOutput: listing,
      content: [{ type: 'content', content: { type: 'text', text: listing } }],
    });
    if (turn % 10 === 0) {
      note({
        sessionUpdate: 'plan',
        entries: [
          { content: 'read the code', priority: 'high', status: 'completed' },
          { content: 'fix it', priority: 'high', status: 'in_progress' },
        ],
      });
    }
  }
  out.length = frames;
  return `${out.join('\n')}\n`;
}

const bytes = new TextEncoder().encode(generate(FRAMES));
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
  return count;
}

/** The same, reading the chunks from a web ReadableStream as the adapter does. */
async function bareStream(): Promise<number> {
  const decoder = new TextDecoder();
  let carry = '';
  let count = 0;
  const reader = source().getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const text = carry + decoder.decode(value, { stream: true });
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
  return count;
}

function source(): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

/**
 * Ours, as the adapter runs it: stdout as a web stream through `tapUpdates` (which splits lines,
 * parses the updates and hands them to the mapper) into the SDK's `ndJsonStream`, read to the end.
 */
async function ours(): Promise<number> {
  const mapper = new SessionUpdateMapper();
  let events = 0;
  let frames = 0;
  const emit = (_e: AgentEventInit) => {
    events++;
  };
  const stdout = source().pipeThrough(
    tapUpdates((params, raw) => {
      frames++;
      mapper.map(params, emit, raw);
    }),
  );
  const reader = ndJsonStream(new WritableStream<Uint8Array>(), stdout).readable.getReader();
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
  }
  mapper.finish(emit);
  if (frames !== FRAMES) throw new Error(`mapped ${frames} frames`);
  return events;
}

/** The mapper alone over frames already split and parsed, against the split and parse alone. */
const lines = new TextDecoder().decode(bytes).split('\n').filter(Boolean);
function mapOnly(): number {
  const mapper = new SessionUpdateMapper();
  let events = 0;
  for (const line of lines) {
    const message = JSON.parse(line) as AnyMessage & { params: unknown };
    mapper.map(parseSessionNotification(message.params), () => events++, message);
  }
  return events;
}
function parseOnly(): number {
  let n = 0;
  for (const line of lines) {
    JSON.parse(line);
    n++;
  }
  return n;
}

const bench: BenchModule = {
  title: 'acp: session/update',
  async run() {
    if (bare() !== FRAMES) throw new Error('baseline frame count');
    const full = await compare(MB, ours, bare, 9, 'cpu');
    const streamed = await compare(MB, ours, bareStream, 9, 'cpu');
    const mapped = await compare(MB, mapOnly, parseOnly, 9, 'cpu');
    const note = `${FRAMES.toLocaleString('en-US')} frames, ${MB.toFixed(1)} MB in 64 KiB chunks; CPU time`;
    return [
      {
        name: "parse + map (tapUpdates + SessionUpdateMapper; other lines through the SDK's ndJsonStream)",
        unit: 'MB/s',
        ours: full.ours,
        baseline: full.baseline,
        baselineName: 'line-split + JSON.parse',
        goal: 0.9,
        note,
      },
      {
        name: 'the same vs a web-stream reader',
        unit: 'MB/s',
        ours: streamed.ours,
        baseline: streamed.baseline,
        baselineName: 'ReadableStream reader + line-split + JSON.parse',
      },
      {
        name: 'JSON.parse + map of split lines',
        unit: 'MB/s',
        ours: mapped.ours,
        baseline: mapped.baseline,
        baselineName: 'JSON.parse of split lines',
      },
    ];
  },
};
export default bench;
