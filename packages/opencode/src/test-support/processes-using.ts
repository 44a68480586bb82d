import { readdir, readFile } from 'node:fs/promises';

/** Processes whose environment names the scratch dir: the server and anything it spawned. */
export async function processesUsing(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = await readFile(`/proc/${entry}/environ`, 'utf8');
      if (env.includes(marker)) found.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

/** Killed processes take a moment to go: what still uses `dir` after a bounded wait (2.5 s) is left behind. */
export async function processesLeftUsing(dir: string): Promise<number[]> {
  let left = await processesUsing(dir);
  for (let i = 0; i < 50 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = await processesUsing(dir);
  }
  return left;
}
