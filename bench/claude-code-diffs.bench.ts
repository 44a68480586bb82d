import { ClaudeEventMapper, StreamJsonParser } from '@forge/claude-code/internal';
import { type BenchModule, compare } from './harness.js';

const EDITS = 500;
const FILE_LINES = 5_000;
const CHUNK = 64 * 1024;
const CWD = '/home/dev/project';
const FILE = `${CWD}/src/big.ts`;

/**
 * A recorded-shape Claude run (2.1.197's lines, as in `__fixtures__/edit-plan.jsonl`) with EDITS `Edit` calls on one
 * FILE_LINES-line file: per edit, the `assistant` tool_use line and the `user` tool_result line whose
 * `tool_use_result` carries the whole file before (`originalFile`) and, when `hunks`, the CLI's `structuredPatch`
 * (one changed line, three lines of context either side, as the CLI writes them).
 */
function generate(hunks: boolean): string {
  const session = '02e2987c-6721-443b-9ae2-3c2083a21bd8';
  const lines = Array.from(
    { length: FILE_LINES },
    (_, i) => `export const value${i} = compute(${i}, 'text ${i % 97}');`,
  );
  const out: string[] = [
    JSON.stringify({ type: 'system', subtype: 'init', cwd: CWD, session_id: session, tools: ['Edit'] }),
  ];
  for (let e = 0; e < EDITS; e++) {
    const at = (e * 37) % FILE_LINES;
    const before = lines.join('\n');
    const oldLine = lines[at]!;
    const newLine = `${oldLine} // edited ${e}`;
    lines[at] = newLine;
    const id = `toolu_${e.toString(36).padStart(8, '0')}`;
    const input = { file_path: FILE, old_string: oldLine, new_string: newLine };
    out.push(
      JSON.stringify({
        type: 'assistant',
        message: {
          id: `msg_${e}`,
          type: 'message',
          role: 'assistant',
          content: [{ type: 'tool_use', id, name: 'Edit', input }],
        },
        parent_tool_use_id: null,
        session_id: session,
      }),
    );
    const from = Math.max(0, at - 3);
    const to = Math.min(FILE_LINES, at + 4);
    const context = (i: number) => ` ${i === at ? '' : lines[i]}`;
    const patchLines: string[] = [];
    for (let i = from; i < to; i++) {
      if (i === at) patchLines.push(`-${oldLine}`, `+${newLine}`);
      else patchLines.push(context(i));
    }
    const detail: Record<string, unknown> = {
      filePath: FILE,
      oldString: oldLine,
      newString: newLine,
      originalFile: before,
      structuredPatch: hunks
        ? [{ oldStart: from + 1, oldLines: to - from, newStart: from + 1, newLines: to - from, lines: patchLines }]
        : [],
      userModified: false,
      replaceAll: false,
    };
    out.push(
      JSON.stringify({
        type: 'user',
        message: {
          role: 'user',
          content: [
            { tool_use_id: id, type: 'tool_result', content: `The file ${FILE} has been updated successfully.` },
          ],
        },
        parent_tool_use_id: null,
        session_id: session,
        tool_use_result: detail,
      }),
    );
  }
  out.push(
    JSON.stringify({
      type: 'result',
      subtype: 'success',
      is_error: false,
      num_turns: EDITS + 1,
      result: 'Done.',
      session_id: session,
    }),
  );
  return `${out.join('\n')}\n`;
}

function chunked(text: string): { chunks: Uint8Array[]; mb: number } {
  const bytes = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK));
  return { chunks, mb: bytes.length / 1e6 };
}

/** Parse + map, as the adapter runs it; `diffs: false` leaves the file tools to tool.call / tool.result alone. */
function play(chunks: Uint8Array[], diffs: boolean): number {
  const mapper = new ClaudeEventMapper(CWD, { diffs });
  let changes = 0;
  const parser = new StreamJsonParser((item) =>
    mapper.mapItem(item, (e) => {
      if (e.type === 'file.changed') changes++;
    }),
  );
  for (const c of chunks) parser.push(c);
  parser.end();
  if (!mapper.result || changes !== (diffs ? EDITS : 0)) throw new Error(`${changes} file.changed events`);
  return changes;
}

const bench: BenchModule = {
  title: 'claude-code: diffs',
  async run() {
    const withHunks = chunked(generate(true));
    const a = await compare(
      withHunks.mb,
      () => play(withHunks.chunks, true),
      () => play(withHunks.chunks, false),
      5,
    );
    const withoutHunks = chunked(generate(false));
    const b = await compare(
      withoutHunks.mb,
      () => play(withoutHunks.chunks, true),
      () => play(withoutHunks.chunks, false),
      5,
    );
    const note = `${EDITS} Edit calls on a ${FILE_LINES.toLocaleString('en-US')}-line file, ${withHunks.mb.toFixed(0)} MB of stream-json; goal ≥ 0.91× = diffs add ≤ 10 % to the time`;
    return [
      {
        name: 'events → file.changed (parse + map with diffs, the CLI’s hunks formatted by jsdiff)',
        unit: 'MB/s',
        ours: a.ours,
        baseline: a.baseline,
        baselineName: 'the same run mapped without diffs',
        goal: 0.91,
        note,
      },
      {
        name: 'events → file.changed, no hunks in the results (jsdiff diffs the lines around each edit)',
        unit: 'MB/s',
        ours: b.ours,
        baseline: b.baseline,
        baselineName: 'the same run mapped without diffs',
      },
    ];
  },
};
export default bench;
