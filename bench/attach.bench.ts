import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { localWorkspaceAttach, type AttachOptions, type PtyModule } from '@forge/core';
import { createAgentHub, dialHome, memoryCredentialStore } from '@forge/dial-home';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import WebSocket from 'ws';
import { endpoint, KEY } from './attach-endpoint.js';
import { compare, type BenchModule } from './harness.js';

const BYTES = 256 * 1024 * 1024;

/**
 * A client in another process (bench/attach-read-client.ts) reading stdout through the platform's
 * attach WebSocket at full speed: the bytes it counted.
 */
function remoteClient() {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./attach-read-client.ts', import.meta.url))],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async read(url: string, command: string[]): Promise<number> {
      return (await this.readWithCpu(url, command)).bytes;
    },
    /** The bytes, and the CPU time (ms) the client process spent reading them. */
    async readWithCpu(url: string, command: string[]): Promise<{ bytes: number; cpuMs: number }> {
      const q = new URLSearchParams();
      for (const c of command) q.append('command', c);
      child.stdin!.write(`${url}?${q} ${KEY}\n`);
      const [bytes, cpuMs] = String((await lines.next()).value)
        .split(' ')
        .map(Number);
      return { bytes: bytes!, cpuMs: cpuMs! };
    },
    close: () => child.kill(),
  };
}

function pipeRead(command: string[]): Promise<number> {
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  let bytes = 0;
  child.stdout.on('data', (d: Buffer) => (bytes += d.length));
  return new Promise((resolve) => child.on('close', () => resolve(bytes)));
}

const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * CPU time per GiB moved, best of `rounds`: ours is the platform's process (this one: the endpoint, the
 * session, the socket writes) plus the client's; the baseline is this process reading a bare pipe. Unlike
 * wall time, it does not swing with the machine's load (the other helpers' runs).
 */
async function cpuPerGiB(
  client: ReturnType<typeof remoteClient>,
  url: string,
  command: string[],
  bytes: number,
  rounds: number,
): Promise<{ ours: number; baseline: number }> {
  let ours = Number.POSITIVE_INFINITY;
  let baseline = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    let t0 = cpuNow();
    const read = await client.readWithCpu(url, command);
    ours = Math.min(ours, cpuNow() - t0 + read.cpuMs);
    t0 = cpuNow();
    await pipeRead(command);
    baseline = Math.min(baseline, cpuNow() - t0);
  }
  const perGiB = 2 ** 30 / bytes;
  return { ours: ours * perGiB, baseline: baseline * perGiB };
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** One keystroke to the echo of it, `n` times: a terminal's line discipline echoes as it reads. */
async function echoLatencies(send: (b: Uint8Array) => void, onOutput: (l: (t: string) => void) => void, n: number) {
  const times: number[] = [];
  let waiting: ((t: string) => void) | undefined;
  onOutput((t) => waiting?.(t));
  for (let i = 0; i < n; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      waiting = (t) => t.includes(ch) && resolve();
      send(new TextEncoder().encode(ch));
    });
    times.push(performance.now() - t0);
    // A line now and then, so the terminal's line buffer never fills.
    if (i % 50 === 49) send(new TextEncoder().encode('\n'));
  }
  return times;
}

/** Keystroke echo through the endpoint at `url`: the socket into a PTY running cat. */
async function attachEcho(url: string, n: number): Promise<number[]> {
  const ws = new WebSocket(`${url}?tty=true&command=cat`, ['v5.channel.k8s.io'], {
    headers: { authorization: `Bearer ${KEY}` },
  });
  await new Promise((r) => ws.once('open', r));
  const times = await echoLatencies(
    (b) => ws.send(Buffer.concat([Buffer.from([0]), b])),
    (l) => ws.on('message', (d: Buffer) => d[0] === 1 && l(d.subarray(1).toString())),
    n,
  );
  ws.close();
  return times;
}

/** A hub and an agent dialled into it over loopback HTTP/2, serving terminals in `workspace`. */
async function dialledHome(workspace: string) {
  const hub = createAgentHub({
    secret: 'attach-bench-secret-attach-bench-secret!!',
    credentialStore: memoryCredentialStore(),
  });
  const server = await hub.listen();
  const link = dialHome({
    url: server.url,
    name: 'bench-remote',
    agent: scriptedAgent({ steps: sampleScript() }),
    credentialFile: join(workspace, '.remote.json'),
    enrolmentToken: hub.issueEnrolmentToken().token,
    attach: localWorkspaceAttach({ workspace }),
  });
  await link.whenOnline();
  const id = link.agentId!;
  return {
    open: (options: AttachOptions) => hub.openTerminal(id, options),
    async close() {
      await link.stop();
      await hub.close();
    },
  };
}

const bench: BenchModule = {
  title: 'attach',
  async run() {
    const workspace = await mkdtemp(`${tmpdir()}/forge-bench-attach-`);
    const local = localWorkspaceAttach({ workspace });
    const { url, close } = await endpoint((options) => local.open(options));
    const remote = await dialledHome(workspace);
    const viaHub = await endpoint(remote.open);
    try {
      const command = ['head', '-c', String(BYTES), '/dev/zero'];
      const client = remoteClient();
      const t = await compare(
        BYTES / 1e6,
        () => client.read(url, command),
        () => pipeRead(command),
        5,
      );
      const cpu = await cpuPerGiB(client, url, command, BYTES, 5).finally(() => client.close());

      // The same over a dial-home link: platform socket → hub → the agent's link → its PTY, and back.
      const remoteBytes = BYTES / 4;
      const remoteCommand = ['head', '-c', String(remoteBytes), '/dev/zero'];
      const remoteClient2 = remoteClient();
      const tRemote = await compare(
        remoteBytes / 1e6,
        () => remoteClient2.read(viaHub.url, remoteCommand),
        () => pipeRead(remoteCommand),
        3,
      ).finally(() => remoteClient2.close());

      // Keystroke echo over loopback: the platform's socket into a PTY running cat, against node-pty alone.
      const viaAttach = await attachEcho(url, 1000);
      const viaDialHome = await attachEcho(viaHub.url, 1000);
      const pty = (await import('node-pty' as string)) as PtyModule;
      const term = pty.spawn('cat', [], { cols: 80, rows: 24, cwd: workspace, env: { TERM: 'xterm' } });
      const bare = await echoLatencies(
        (b) => term.write(Buffer.from(b)),
        (l) => term.onData((d) => l(String(d))),
        1000,
      );
      term.kill();
      return [
        {
          name: `stdout throughput to a fast client (its own process), ${BYTES / 2 ** 20} MiB, no tty`,
          unit: 'MB/s',
          ours: t.ours,
          baseline: t.baseline,
          baselineName: "a bare child's pipe",
          goal: 0.7,
        },
        {
          name: `stdout CPU per GiB, the platform's process + the client's (same transfer), no tty`,
          unit: 'ms/GiB',
          lowerIsBetter: true,
          ours: cpu.ours,
          baseline: cpu.baseline,
          baselineName: "a bare child's pipe, its reader's process",
        },
        {
          name: `stdout throughput over dial-home (platform → hub → the agent's link), ${remoteBytes / 2 ** 20} MiB, no tty`,
          unit: 'MB/s',
          ours: tRemote.ours,
          baseline: tRemote.baseline,
          baselineName: "a bare child's pipe",
        },
        {
          name: 'keystroke echo p50 (tty, loopback)',
          unit: 'ms',
          lowerIsBetter: true,
          ours: pct(viaAttach, 0.5),
          baseline: pct(bare, 0.5),
          baselineName: 'node-pty alone',
        },
        {
          name: 'keystroke echo p99 (tty, loopback)',
          unit: 'ms',
          lowerIsBetter: true,
          ours: pct(viaAttach, 0.99),
          baseline: pct(bare, 0.99),
          baselineName: 'node-pty alone',
          goalMax: 20,
        },
        {
          name: 'keystroke echo p50 over dial-home (tty, loopback)',
          unit: 'ms',
          lowerIsBetter: true,
          ours: pct(viaDialHome, 0.5),
          baseline: pct(bare, 0.5),
          baselineName: 'node-pty alone',
        },
        {
          name: 'keystroke echo p99 over dial-home (tty, loopback)',
          unit: 'ms',
          lowerIsBetter: true,
          ours: pct(viaDialHome, 0.99),
          baseline: pct(bare, 0.99),
          baselineName: 'node-pty alone',
          goalMax: 20,
        },
      ];
    } finally {
      await viaHub.close();
      await remote.close();
      await close();
      await rm(workspace, { recursive: true, force: true });
    }
  },
};

export default bench;
