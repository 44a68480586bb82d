import { readdirSync, readFileSync } from 'node:fs';

/**
 * Linux process-tree helpers over /proc, for making sure nothing an agent started outlives its
 * run: tools the Claude Code CLI starts run in their own session, so a process-group kill misses
 * them, and once their parent is gone they hang off PID 1 where no parent-child walk finds them.
 * Two nets catch them: the tree recorded while it lives, and a tag in the environment that every
 * descendant inherits. Elsewhere than Linux these find nothing (the process-group kill remains).
 */

/** The variable a runner tags its processes with; descendants inherit it. */
export const PROCESS_TAG_VAR = 'FORGE_PROCESS_TAG';

export const hasProc = process.platform === 'linux' && safe(() => readdirSync('/proc/self').length > 0, false);

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** A process as /proc knows it: its pid and its start time (clock ticks after boot), which tell a reused pid apart. */
export interface ProcessId {
  pid: number;
  startTime: string;
}

function statFields(pid: number): string[] | undefined {
  const stat = safe(() => readFileSync(`/proc/${pid}/stat`, 'utf8'), '');
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const end = stat.lastIndexOf(')');
  if (end < 0) return undefined;
  return stat.slice(end + 2).split(' ');
}

/** The start time of `pid`, or undefined when it is gone or a zombie. */
export function startTimeOf(pid: number): string | undefined {
  const fields = statFields(pid);
  // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
  if (!fields || fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

/** Whether `id` still names the same living process. */
export function isSameProcess(id: ProcessId): boolean {
  return startTimeOf(id.pid) === id.startTime;
}

function childrenOf(pid: number): number[] | undefined {
  const tasks = safe(() => readdirSync(`/proc/${pid}/task`), [] as string[]);
  const found: number[] = [];
  for (const tid of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch (error) {
      // A kernel without CONFIG_PROC_CHILDREN: the caller walks parent ids instead.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && safe(() => readdirSync(`/proc/${pid}`), null)) {
        return undefined;
      }
      continue;
    }
    for (const p of text.split(' ')) if (p) found.push(Number(p));
  }
  return found;
}

function allPids(): number[] {
  return safe(() => readdirSync('/proc'), [] as string[])
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** Every living descendant of `pid` (children, their children…), with start times. */
export function descendantsOf(pid: number): ProcessId[] {
  if (!hasProc) return [];
  const out: ProcessId[] = [];
  let parents: Map<number, number[]> | undefined;
  const kids = (p: number): number[] => {
    const direct = parents ? undefined : childrenOf(p);
    if (direct) return direct;
    if (!parents) {
      parents = new Map();
      for (const q of allPids()) {
        const ppid = Number(statFields(q)?.[1]);
        if (!Number.isNaN(ppid)) parents.set(ppid, [...(parents.get(ppid) ?? []), q]);
      }
    }
    return parents.get(p) ?? [];
  };
  const seen = new Set<number>([pid]);
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of kids(queue.shift()!)) {
      if (seen.has(child)) continue;
      seen.add(child);
      queue.push(child);
      const startTime = startTimeOf(child);
      if (startTime !== undefined) out.push({ pid: child, startTime });
    }
  }
  return out;
}

/** Every living process of this user whose environment carries `PROCESS_TAG_VAR=tag`. */
export function processesTagged(tag: string): ProcessId[] {
  if (!hasProc) return [];
  const needle = `\0${PROCESS_TAG_VAR}=${tag}\0`;
  const out: ProcessId[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const environ = safe(() => readFileSync(`/proc/${pid}/environ`, 'latin1'), '');
    if (!`\0${environ}`.includes(needle)) continue;
    const startTime = startTimeOf(pid);
    if (startTime !== undefined) out.push({ pid, startTime });
  }
  return out;
}

/**
 * SIGKILLs the given processes, then everything tagged `tag` (when given) and their descendants,
 * again until a pass finds nothing (a dying shell may start one more). Each pid is checked against
 * its start time right before the kill, so a pid the system has reused is left alone.
 */
export function killProcesses(known: Iterable<ProcessId>, tag?: string): number {
  let killed = 0;
  let batch = [...known];
  for (let pass = 0; pass < 5; pass++) {
    const found = new Map<number, ProcessId>();
    for (const id of [...batch, ...(tag ? processesTagged(tag) : [])]) {
      if (id.pid === process.pid || !isSameProcess(id)) continue;
      found.set(id.pid, id);
      for (const d of descendantsOf(id.pid)) found.set(d.pid, d);
    }
    if (found.size === 0) break;
    for (const id of found.values()) {
      if (!isSameProcess(id)) continue;
      try {
        process.kill(id.pid, 'SIGKILL');
        killed++;
      } catch {
        // Gone meanwhile.
      }
    }
    batch = [];
  }
  return killed;
}
