import { readFileSync } from 'node:fs';
import { createParser } from 'eventsource-parser';
import { TurnMapper, createFrameDecoder } from '@forge/opencode/internal';
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

/** SSE framing alone, or (with `json`) framing plus JSON.parse of every frame — what an SDK's event stream does. */
function bare(input: Uint8Array[], json: boolean): number {
  let frames = 0;
  const decoder = new TextDecoder();
  const parser = createParser({
    onEvent(event) {
      if (json) JSON.parse(event.data);
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
      // Like for like with the stream-json row: the bare baseline also turns the wire into objects.
      const parsed = await compare(
        mb,
        () => ours(input, sessionId),
        () => bare(input, true),
      );
      rows.push({
        name: `parse + map, ${name} (${mb.toFixed(1)} MB)`,
        unit: 'MB/s',
        ours: parsed.ours,
        baseline: parsed.baseline,
        baselineName: 'eventsource-parser + JSON.parse',
        goal: 0.8,
      });
      // The framing alone, a ceiling no parser of these events reaches (JSON.parse alone is ~0.35× of it).
      const framing = await compare(
        mb,
        () => ours(input, sessionId),
        () => bare(input, false),
      );
      rows.push({
        name: `parse + map vs framing only, ${name}`,
        unit: 'MB/s',
        ours: framing.ours,
        baseline: framing.baseline,
        baselineName: 'bare eventsource-parser, no JSON.parse',
      });
    }
    return rows;
  },
};
export default bench;
