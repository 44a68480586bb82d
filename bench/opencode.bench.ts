import { readFileSync } from 'node:fs';
import { createParser } from 'eventsource-parser';
import { TurnMapper, createFrameDecoder } from '@forge/opencode';
import { compare, type BenchModule } from './harness.js';

const RECORDED = new URL('../packages/opencode/src/fixtures/permission.sse', import.meta.url);
const CHUNK = 64 * 1024;

/**
 * A long event stream made from a recorded tool turn, repeated with fresh message and part ids
 * per repetition (so every repetition is new work for the mapper, not a duplicate it skips).
 * With `otherSessions`, every frame also comes once for another session, as on a busy server.
 */
function buildStream(targetBytes: number, otherSessions: boolean): { bytes: Uint8Array; sessionId: string } {
  const recorded = readFileSync(RECORDED, 'utf8');
  const sessionId = /"sessionID":"(ses_[^"]+)"/.exec(recorded)![1]!;
  const frames = recorded.split('\n\n').filter((f) => f.startsWith('data: '));
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < targetBytes; i++) {
    for (const frame of frames) {
      const fresh = frame.replaceAll('"prt_', `"prt_r${i}_`).replaceAll('"msg_', `"msg_r${i}_`);
      const text = `${fresh}\n\n`;
      parts.push(text);
      size += text.length;
      if (otherSessions) {
        const other = `${fresh.replaceAll(sessionId, 'ses_someoneelse00000000000')}\n\n`;
        parts.push(other);
        size += other.length;
      }
    }
  }
  return { bytes: new TextEncoder().encode(parts.join('')), sessionId };
}

function chunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) out.push(bytes.subarray(i, i + CHUNK));
  return out;
}

function ours(input: Uint8Array[], sessionId: string): number {
  let events = 0;
  const mapper = new TurnMapper(sessionId, () => {
    events++;
  });
  const decoder = createFrameDecoder();
  for (const chunk of input) for (const data of decoder.push(chunk)) mapper.handleFrame(data);
  return events;
}

function bare(input: Uint8Array[]): number {
  let frames = 0;
  const decoder = new TextDecoder();
  const parser = createParser({
    onEvent() {
      frames++;
    },
  });
  for (const chunk of input) parser.feed(decoder.decode(chunk, { stream: true }));
  return frames;
}

/** Parse + map of `GET /event` (what a run does per byte) against bare eventsource-parser over the same bytes. */
const bench: BenchModule = {
  title: 'opencode: SSE parse + map',
  async run() {
    const rows = [];
    for (const [name, other] of [
      ['one session', false],
      ['half the frames of another session', true],
    ] as const) {
      const { bytes, sessionId } = buildStream(8 * 1024 * 1024, other);
      const input = chunks(bytes);
      if (ours(input, sessionId) === 0) throw new Error('the mapper produced no events');
      const mb = bytes.length / (1024 * 1024);
      const r = await compare(mb, () => ours(input, sessionId), () => bare(input));
      rows.push({
        name: `parse + map, ${name} (${mb.toFixed(1)} MB)`,
        unit: 'MB/s',
        ours: r.ours,
        baseline: r.baseline,
        baselineName: 'bare eventsource-parser',
        goal: 0.8,
      });
    }
    return rows;
  },
};
export default bench;
