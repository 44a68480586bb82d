import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times: 100 on every Linux kernel configuration in use (USER_HZ). */
const TICKS = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime: this process and its children it has waited for. */
  ticks: number;
}

function stat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(fields[i - 3]);
    return { pid: Number(pid), ppid: n(4), ticks: n(14) + n(15) + n(16) + n(17) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by this process and every process under it, live or ended (an ended one is
 * counted by the parent that waited for it). On a shared machine wall time says more about the other
 * users than about the tests; CPU time hardly changes with the load. Undefined where there is no /proc.
 */
export function treeCpuSeconds(root = process.pid): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const stats = pids.map(stat).filter((s): s is ProcStat => s !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const self = stats.find((s) => s.pid === root);
  if (!self) return undefined;
  let ticks = 0;
  const queue = [self];
  for (let s = queue.pop(); s; s = queue.pop()) {
    ticks += s.ticks;
    queue.push(...(children.get(s.pid) ?? []));
  }
  return ticks / TICKS;
}
