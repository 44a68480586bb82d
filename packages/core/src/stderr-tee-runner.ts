import type { ProcessRunner, RunningProcess, SpawnOptions } from './process-runner.js';

/** A program writing without newlines still shows up, in pieces of about this many characters. */
const MAX_PARTIAL = 16_384;

/**
 * A ProcessRunner whose processes' stderr is also handed, line by line, to `onLine` (with the spawn's options, so
 * a host can tell whose process it is, e.g. by its `cwd`): an agent's log for its operators. The process's reader
 * still gets every byte as before; `lineSink` returning undefined leaves that process's stderr alone.
 */
export function stderrTeeRunner(
  runner: ProcessRunner,
  lineSink: (command: string, options: SpawnOptions | undefined) => ((line: string) => void) | undefined,
): ProcessRunner {
  return {
    async spawn(command, args, options) {
      const child = await runner.spawn(command, args, options);
      const write = lineSink(command, options);
      return write ? teed(child, write) : child;
    },
  };
}

function teed(child: RunningProcess, write: (line: string) => void): RunningProcess {
  const source = child.stderr;
  async function* stderr(): AsyncGenerator<Uint8Array> {
    const decoder = new TextDecoder();
    let partial = '';
    try {
      for await (const chunk of source) {
        const lines = (partial + decoder.decode(chunk, { stream: true })).split(/\r?\n/);
        partial = lines.pop() ?? '';
        if (partial.length > MAX_PARTIAL) {
          lines.push(partial);
          partial = '';
        }
        for (const line of lines) write(line);
        yield chunk;
      }
    } finally {
      partial += decoder.decode();
      if (partial) write(partial);
    }
  }
  const copy = stderr();
  // Everything else is the child's own (pid, kill, exited, ref/unref keep their `this`).
  return new Proxy(child, {
    get(target, prop) {
      if (prop === 'stderr') return copy;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
