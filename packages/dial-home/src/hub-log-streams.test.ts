import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { LogLinesSchema } from './gen/forge/dialhome/v1/dialhome_pb.js';
import { HubLogStreams } from './hub-log-streams.js';

/**
 * Attack: the agent program is not trusted to bound what it sends. A remote agent speaking the protocol itself
 * (not through dialHome, which cuts lines) answers a log read with huge lines, many of them, while the platform's
 * reader is slow. The hub must hold a bounded amount for that reader, not whatever the agent sends.
 */
describe('HubLogStreams against an agent that sends too much', () => {
  it('cuts each line at 8 KiB and holds at most 4 MiB of lines for a reader that lags', async () => {
    let streamId = '';
    const streams = new HubLogStreams((id) => void (streamId ||= id), 'mallory', 5_000);
    const read = streams.read({ tail: 10, follow: true })[Symbol.asyncIterator]();
    const first = read.next();
    await new Promise((r) => setImmediate(r));
    const huge = 'x'.repeat(1 << 20);
    // 64 messages of 16 lines of 1 MiB: 1 GiB offered.
    for (let i = 0; i < 64; i++)
      streams.deliver(create(LogLinesSchema, { streamId, lines: Array.from({ length: 16 }, () => huge) }));
    streams.deliver(create(LogLinesSchema, { streamId, end: true }));
    const got: string[] = [(await first).value as string];
    for (let r = await read.next(); !r.done; r = await read.next()) got.push(r.value);
    expect(Math.max(...got.map((l) => l.length))).toBeLessThanOrEqual(8_193);
    expect(got.reduce((n, l) => n + l.length, 0)).toBeLessThanOrEqual(4 << 20);
  });
});
