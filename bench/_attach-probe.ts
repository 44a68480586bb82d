/**
 * The local attach row of attach.bench.ts alone, for A/B runs of two trees on a busy machine: alternates a bare
 * pipe and the attach (PROBE_ROUNDS, default 5) and prints, per round, wall MB/s, CPU per GiB of the platform's
 * process and of the client's, the bare reader's, and the frame size the client saw.
 *
 *   node --conditions=@forge/source --import tsx bench/_attach-probe.ts
 *
 * PROBE_MIB (default 256), PROBE_NOBARE=1 (attach rounds only, e.g. under --cpu-prof), PROBE_LABEL (a tag).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { localWorkspaceAttach } from '@forge/core';
import { endpoint, KEY } from './attach-endpoint.js';

const BYTES = Number(process.env.PROBE_MIB ?? 256) * 2 ** 20;
const ROUNDS = Number(process.env.PROBE_ROUNDS ?? 5);
const NOBARE = process.env.PROBE_NOBARE === '1';
const perGiB = 2 ** 30 / BYTES;
const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const workspace = await mkdtemp(`${tmpdir()}/forge-probe-`);
const local = localWorkspaceAttach({ workspace });
const { url, close } = await endpoint((options) => local.open(options));
const client = spawn(
  process.execPath,
  ['--import', 'tsx', fileURLToPath(new URL('./attach-read-client.ts', import.meta.url))],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const lines = createInterface({ input: client.stdout! })[Symbol.asyncIterator]();
const command = ['head', '-c', String(BYTES), '/dev/zero'];

async function ours() {
  const q = new URLSearchParams();
  for (const c of command) q.append('command', c);
  const t0 = performance.now();
  const c0 = cpuNow();
  client.stdin!.write(`${url}?${q} ${KEY}\n`);
  const [bytes, clientMs, messages] = String((await lines.next()).value)
    .split(' ')
    .map(Number);
  if (bytes !== BYTES) throw new Error(`the client read ${bytes} bytes`);
  return { ms: performance.now() - t0, platform: cpuNow() - c0, client: clientMs!, messages: messages! };
}

function bare(): Promise<{ ms: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = cpuNow();
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  child.stdout.on('data', () => {});
  return new Promise((resolve) => child.on('close', () => resolve({ ms: performance.now() - t0, cpu: cpuNow() - c0 })));
}

const mbs = (ms: number) => BYTES / 1e6 / (ms / 1000);
await ours();
if (!NOBARE) await bare();
let best = { ours: 0, bare: 0 };
let min = { platform: Number.POSITIVE_INFINITY, client: Number.POSITIVE_INFINITY, both: Number.POSITIVE_INFINITY };
let minBare = Number.POSITIVE_INFINITY;
const rows: string[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const b = NOBARE ? undefined : await bare();
  const o = await ours();
  best = { ours: Math.max(best.ours, mbs(o.ms)), bare: Math.max(best.bare, b ? mbs(b.ms) : 0) };
  min = {
    platform: Math.min(min.platform, o.platform * perGiB),
    client: Math.min(min.client, o.client * perGiB),
    both: Math.min(min.both, (o.platform + o.client) * perGiB),
  };
  if (b) minBare = Math.min(minBare, b.cpu * perGiB);
  rows.push(
    `  ${mbs(o.ms).toFixed(0)}${b ? ` / ${mbs(b.ms).toFixed(0)}` : ''} MB/s, CPU/GiB platform ${(o.platform * perGiB).toFixed(0)} client ${(o.client * perGiB).toFixed(0)}${b ? ` bare ${(b.cpu * perGiB).toFixed(0)}` : ''} ms, frames ${(BYTES / o.messages / 1024).toFixed(0)} KiB`,
  );
}
const ratio = NOBARE ? '' : ` ${(best.ours / best.bare).toFixed(2)}×`;
console.log(
  `${process.env.PROBE_LABEL ?? ''} load ${loadavg()[0]!.toFixed(1)}: best ${best.ours.toFixed(0)}${NOBARE ? '' : ` / ${best.bare.toFixed(0)}`} MB/s${ratio}; CPU/GiB min platform + client ${min.both.toFixed(0)} (platform ${min.platform.toFixed(0)}, client ${min.client.toFixed(0)})${NOBARE ? '' : `, bare reader ${minBare.toFixed(0)}`} ms`,
);
console.log(rows.join('\n'));
client.kill();
await close();
await rm(workspace, { recursive: true, force: true });
