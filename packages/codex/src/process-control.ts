import type { ProcessExit, RunningProcess } from '@forge/core';

export interface StopGrace {
  /** After SIGINT, how long the CLI may take to exit before SIGTERM. */
  sigintGraceMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  sigtermGraceMs: number;
}

/**
 * Stops a process: SIGINT first (Codex 0.171.0 exits 1 within ~50 ms, its tool's process tree
 * gone, the session resumable), then SIGTERM, then SIGKILL, each after its grace period. Resolves
 * once the process has exited. Safe to call more than once. (The same ladder as
 * `@forge/claude-code`'s; kept per adapter because the first signal and graces are the CLI's.)
 */
export function stopProcess(
  proc: RunningProcess,
  grace: StopGrace,
  first: NodeJS.Signals = 'SIGINT',
): Promise<ProcessExit> {
  const ladder: Array<[NodeJS.Signals, number]> =
    first === 'SIGINT'
      ? [
          ['SIGINT', grace.sigintGraceMs],
          ['SIGTERM', grace.sigtermGraceMs],
          ['SIGKILL', 0],
        ]
      : first === 'SIGTERM'
        ? [
            ['SIGTERM', grace.sigtermGraceMs],
            ['SIGKILL', 0],
          ]
        : [['SIGKILL', 0]];
  let exited = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const step = (i: number) => {
    if (exited || i >= ladder.length) return;
    const [signal, wait] = ladder[i]!;
    proc.kill(signal);
    if (i + 1 < ladder.length) timer = setTimeout(() => step(i + 1), wait);
  };
  step(0);
  return proc.exited.finally(() => {
    exited = true;
    if (timer) clearTimeout(timer);
  });
}

/** Resolves with the exit, or undefined when `ms` passes first. */
export function exitWithin(proc: RunningProcess, ms: number): Promise<ProcessExit | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([proc.exited, late]).finally(() => clearTimeout(timer));
}

/** Keeps the last `limit` bytes of a stream, decoded, for error messages. */
export class TailBuffer {
  private chunks: Uint8Array[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    while (this.size - this.chunks[0]!.byteLength >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.byteLength;
    }
  }

  text(): string {
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.byteLength;
    }
    const from = Math.max(0, this.size - this.limit);
    // `fatal: false` turns a character cut at the start into U+FFFD instead of throwing.
    return new TextDecoder()
      .decode(all.subarray(from))
      .replace(/^\uFFFD+/, '')
      .trim();
  }
}
