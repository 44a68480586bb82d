import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSameProcess, killProcesses, startTimeOf, type ProcessId } from './process-tree.js';

/**
 * What a runner writes to its state dir for each process it starts, so that a later instance can
 * end what this one left behind when it was killed without a chance to clean up (`kill -9`).
 */
export interface LedgerEntry extends ProcessId {
  /** The tag in the process's environment (see PROCESS_TAG_VAR), inherited by all it starts. */
  tag: string;
  command: string;
  /** The process that started it: while that one lives, the entry is its business. */
  owner: ProcessId;
}

const fileOf = (dir: string, tag: string) => join(dir, `${tag}.json`);

let self: ProcessId | undefined;
/** This process, as a ledger owner. */
export function thisProcess(): ProcessId {
  self ??= { pid: process.pid, startTime: startTimeOf(process.pid) ?? 'unknown' };
  return self;
}

export function recordProcess(dir: string, entry: LedgerEntry): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(fileOf(dir, entry.tag), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}

export function forgetProcess(dir: string, tag: string): void {
  try {
    unlinkSync(fileOf(dir, tag));
  } catch {
    // Already gone.
  }
}

export interface ReapResult {
  /** Ledger entries whose owner was gone and whose processes were ended (or had ended). */
  reaped: number;
  /** Processes killed. */
  killed: number;
}

/**
 * Ends what earlier runners recorded in `dir` and left behind: for each entry whose owner process
 * is gone, the recorded process (if it is still the same process: same start time), everything it
 * started and everything carrying its tag is SIGKILLed, and the entry is removed. Entries of a
 * living owner (another instance sharing the dir) are left alone. Call it when a host starts.
 */
export function reapOrphanProcesses(dir: string): ReapResult {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return { reaped: 0, killed: 0 };
  }
  const result: ReapResult = { reaped: 0, killed: 0 };
  for (const name of names) {
    let entry: LedgerEntry;
    try {
      entry = JSON.parse(readFileSync(join(dir, name), 'utf8')) as LedgerEntry;
    } catch {
      continue;
    }
    if (entry.owner && isSameProcess(entry.owner)) continue;
    result.killed += killProcesses([{ pid: entry.pid, startTime: entry.startTime }], entry.tag);
    result.reaped++;
    forgetProcess(dir, entry.tag);
  }
  return result;
}
