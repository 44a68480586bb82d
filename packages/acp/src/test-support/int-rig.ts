import { readdir, readFile, readlink } from 'node:fs/promises';
import { type AgentEvent, localProcessRunner, type ProcessRunner, type RunningProcess } from '@forge/core';

/** A local runner that remembers what it started, so a test can check nothing is left running. */
export function trackingRunner(): ProcessRunner & { spawned: RunningProcess[] } {
  const local = localProcessRunner();
  const spawned: RunningProcess[] = [];
  return {
    spawned,
    async spawn(command, args, options) {
      const p = await local.spawn(command, args, options);
      spawned.push(p);
      return p;
    },
  };
}

export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of processes whose command line contains `marker`, read from /proc. */
export async function processesWith(marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(marker)) found.push(pid);
  }
  return found;
}

/**
 * The processes whose environment has `HOME=home` (their executable and command line), read from /proc. A test's
 * scratch HOME reaches every process under its agent, the ones the adapter never reports to Forge too
 * (claude-code-acp's Claude Code CLIs and their tools), so this finds what a close or kill left behind, whichever
 * CLI the agent ran.
 */
export async function processesWithHome(home: string): Promise<Array<{ pid: number; exe: string; cmdline: string }>> {
  const found: Array<{ pid: number; exe: string; cmdline: string }> = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (!environ.split('\0').includes(`HOME=${home}`)) continue;
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    found.push({ pid: Number(pid), exe, cmdline: cmdline.replaceAll('\0', ' ').trim() });
  }
  return found;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

export const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);
