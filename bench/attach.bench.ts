import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { localWorkspaceAttach, type PtyModule } from '@forge/core';
import WebSocket from 'ws';
import {
  ApiKeyStore,
  AttachService,
  listen,
  parseApiKeyList,
  type AgentBackend,
  type AgentRecord,
} from '@forge/example-platform/attach';
import { compare, type BenchModule } from './harness.js';

const KEY = 'bench-attach-key-0123456789';
const AGENT = 'agt_benchattach000000';
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
      const q = new URLSearchParams();
      for (const c of command) q.append('command', c);
      child.stdin!.write(`${url}?${q} ${KEY}\n`);
      return Number((await lines.next()).value);
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

const bench: BenchModule = {
  title: 'attach',
  async run() {
    const workspace = await mkdtemp(`${tmpdir()}/forge-bench-attach-`);
    const record: AgentRecord = {
      userId: 'bench',
      agentId: AGENT,
      provider: 'x',
      phase: 'Running',
      ready: true,
      createdAt: 0,
    };
    const local = localWorkspaceAttach({ workspace });
    const backend = {
      kind: 'local',
      get: async (userId: string, agentId: string) => (userId === 'bench' && agentId === AGENT ? record : undefined),
      attach: (_agent: AgentRecord, options: Parameters<typeof local.open>[0]) => local.open(options),
    } as unknown as AgentBackend;
    const attach = new AttachService({
      keys: new ApiKeyStore(parseApiKeyList(`bench:${KEY}`)),
      backend,
      maxPerUser: 64,
    });
    const server = await listen((_req, res) => res.end(), { port: 0, host: '127.0.0.1', upgrade: attach.upgrade });
    const url = `${server.url.replace('http', 'ws')}/api/v1/agents/${AGENT}/attach`;
    try {
      const command = ['head', '-c', String(BYTES), '/dev/zero'];
      const client = remoteClient();
      const t = await compare(
        BYTES / 1e6,
        () => client.read(url, command),
        () => pipeRead(command),
        5,
      ).finally(() => client.close());

      // Keystroke echo over loopback: the platform's socket into a PTY running cat, against node-pty alone.
      const ws = new WebSocket(`${url}?tty=true&command=cat`, ['v5.channel.k8s.io'], {
        headers: { authorization: `Bearer ${KEY}` },
      });
      await new Promise((r) => ws.once('open', r));
      const viaAttach = await echoLatencies(
        (b) => ws.send(Buffer.concat([Buffer.from([0]), b])),
        (l) => ws.on('message', (d: Buffer) => d[0] === 1 && l(d.subarray(1).toString())),
        1000,
      );
      ws.close();
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
      ];
    } finally {
      await attach.close();
      await server.close();
      await rm(workspace, { recursive: true, force: true });
    }
  },
};

export default bench;
