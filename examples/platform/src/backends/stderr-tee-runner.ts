import { relative, sep } from 'node:path';
import type { ProcessRunner, RunningProcess } from '@forge/core';
import type { AgentLogBook } from './agent-log-book.js';
import { AGENT_ID } from './backend.js';

/**
 * The log key of the local agent whose workspace `cwd` is in (`<dataDir>/<user>/<agent>/workspace/…`), or
 * undefined for a process started elsewhere (a shared server, a version probe).
 */
export function agentKeyOfCwd(dataDir: string, cwd: string | undefined): string | undefined {
  if (!cwd) return undefined;
  const parts = relative(dataDir, cwd).split(sep);
  const [userId, agentId, workspace] = parts;
  if (!userId || userId === '..' || !agentId || !AGENT_ID.test(agentId) || workspace !== 'workspace') return undefined;
  return `${userId}/${agentId}`;
}

/**
 * A ProcessRunner whose processes' stderr also goes, line by line, to the log of the agent they run for (told by
 * their working directory). The provider still reads every byte as before; the copy costs one split per chunk.
 */
export function stderrTeeRunner(
  runner: ProcessRunner,
  book: AgentLogBook,
  keyOf: (cwd: string | undefined) => string | undefined,
): ProcessRunner {
  return {
    async spawn(command, args, options) {
      const child = await runner.spawn(command, args, options);
      const key = keyOf(options?.cwd);
      if (!key) return child;
      return teed(child, (line) => book.append(key, line));
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
        // A program writing without newlines still shows up, in pieces.
        if (partial.length > 16_384) {
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
