import { localWorkspaceAttach } from '@forge/core';
import { spawn } from 'node:child_process';
const a = localWorkspaceAttach({ workspace: '/tmp' });
const r: string[] = [];
for (let i = 0; i < 5; i++) {
  const p = await a.open({ command: ['head', '-c', String(64 * 2 ** 20), '/dev/zero'] });
  let n = 0;
  let t0 = 0;
  for await (const c of p.stdout as any) {
    if (!t0) t0 = performance.now();
    n += c.length;
  }
  const ours = n / 1e6 / ((performance.now() - t0) / 1000);
  const child = spawn('head', ['-c', String(64 * 2 ** 20), '/dev/zero'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let m = 0;
  let t1 = 0;
  for await (const c of child.stdout) {
    if (!t1) t1 = performance.now();
    m += c.length;
  }
  r.push(`${ours.toFixed(0)}/${(m / 1e6 / ((performance.now() - t1) / 1000)).toFixed(0)}`);
}
console.log(r.join(' '));
