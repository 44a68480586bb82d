import { readdirSync, readFileSync } from 'node:fs';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Live pids whose argv is exactly `argv` (read from /proc: what an attach left running, or not). */
export function running(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readFileSync(`/proc/${n}/cmdline`, 'latin1') === want;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** True once no process with this argv runs (within 5 s). */
export async function gone(argv: string[]): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (running(argv).length === 0) return true;
    await tick(50);
  }
  return false;
}

/** Waits until a process with this argv runs: the shell echoes before its background job has exec'd. */
export async function started(argv: string[]): Promise<number[]> {
  for (let i = 0; i < 100 && running(argv).length === 0; i++) await tick(50);
  return running(argv);
}
