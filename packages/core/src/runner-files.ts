import { ForgeError } from './errors.js';
import type { ProcessRunner, RunningProcess } from './process-runner.js';
import { joinChunks } from './join-chunks.js';

/**
 * Reading and writing files where an agent runs, through its ProcessRunner, so the same code reaches the
 * local machine, a pod (over exec) or any runner: POSIX `sh`, `wc`, `tail` and `cat` do the work. Paths are
 * passed as arguments ("$1"), never spliced into the script.
 */
export interface RunnerFiles {
  /** The file's size in bytes, or undefined when it does not exist. */
  size(path: string): Promise<number | undefined>;
  /** The file's bytes from `from` (default 0) to its end. */
  read(path: string, from?: number): Promise<Uint8Array>;
  /** Writes the file (creating its directory), or appends to it. */
  write(path: string, data: Uint8Array, options?: { append?: boolean }): Promise<void>;
  /** Runs a POSIX sh script with positional arguments ($1…) and returns its standard output as text. */
  shell(script: string, args?: string[]): Promise<string>;
}

export interface RunnerFilesOptions {
  /** Environment of the helper processes (the agent's HOME, CODEX_HOME…). */
  env?: Record<string, string>;
  /** Host variables passed on, as the agent's own processes get them (see SpawnOptions.passEnv). */
  passEnv?: readonly string[];
}

const SIZE = 'if [ -f "$1" ]; then wc -c < "$1"; else echo none; fi';
const READ = 'exec tail -c "+$2" -- "$1"';
const WRITE = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"';
const APPEND = 'mkdir -p -- "$(dirname -- "$1")" && cat >> "$1"';

export function runnerFiles(runner: ProcessRunner, options: RunnerFilesOptions = {}): RunnerFiles {
  const sh = async (script: string, args: string[], input?: Uint8Array): Promise<Uint8Array> => {
    const child = await runner.spawn('sh', ['-c', script, 'sh', ...args], {
      ...(options.env ? { env: options.env } : {}),
      ...(options.passEnv ? { passEnv: options.passEnv } : {}),
      input: input ?? '',
    });
    const [out, err, exit] = await Promise.all([collect(child.stdout), collect(child.stderr), child.exited]);
    if (exit.code !== 0) throw failed(child, args[0] ?? '', exit.code, err);
    return out;
  };
  return {
    async size(path) {
      const text = new TextDecoder().decode(await sh(SIZE, [path])).trim();
      return text === 'none' ? undefined : Number(text);
    },
    read: (path, from = 0) => sh(READ, [path, String(from + 1)]),
    async write(path, data, opts = {}) {
      await sh(opts.append ? APPEND : WRITE, [path], data);
    },
    shell: async (script, args = []) => new TextDecoder().decode(await sh(script, args)),
  };
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of stream) {
    parts.push(part);
    length += part.length;
  }
  return joinChunks(parts, length);
}

function failed(_child: RunningProcess, path: string, code: number | null, stderr: Uint8Array): ForgeError {
  const detail = new TextDecoder().decode(stderr).trim().slice(0, 500);
  return new ForgeError(
    'SESSION_FILES_FAILED',
    `session files at ${path}: exit ${code}${detail ? `: ${detail}` : ''}`,
    'provider',
    {
      details: { path, code },
    },
  );
}
