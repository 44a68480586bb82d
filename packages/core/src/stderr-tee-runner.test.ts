import { describe, expect, it } from 'vitest';
import { localProcessRunner } from './local-process-runner.js';
import { stderrTeeRunner } from './stderr-tee-runner.js';

describe('stderrTeeRunner', () => {
  it("copies a process's stderr line by line to the sink its spawn options choose, the reader still getting every byte", async () => {
    const lines: string[] = [];
    const runner = stderrTeeRunner(localProcessRunner(), (_command, options) =>
      options?.cwd ? (line) => lines.push(line) : undefined,
    );
    const script = "process.stderr.write('a\\r\\nb'); setTimeout(() => process.stderr.write('c\\nlast'), 20)";
    const child = await runner.spawn(process.execPath, ['-e', script], { cwd: process.cwd() });
    let read = '';
    for await (const chunk of child.stderr) read += Buffer.from(chunk).toString();
    expect((await child.exited).code).toBe(0);
    expect(read).toBe('a\r\nbc\nlast');
    expect(lines).toEqual(['a', 'bc', 'last']);
    expect(typeof child.pid).toBe('number');

    // Not chosen: left alone.
    const other = await runner.spawn(process.execPath, ['-e', "process.stderr.write('x\\n')"]);
    for await (const _ of other.stderr);
    await other.exited;
    expect(lines).toEqual(['a', 'bc', 'last']);
  });
});
