import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry } from '@forge/core';
import WebSocket from 'ws';
import { parseApiKeyList } from '../../api-keys.js';
import { startPlatform, type Platform, type PlatformOptions } from '../../app.js';
import { memoryLogger } from '../../logger.js';
import { scriptedDemoAgent } from '../../providers/scripted-demo.js';
import { CHANNEL, frame } from '../channel-frames.js';
import { testConfig } from '../../test-support/test-config.js';

export const ALICE = 'attach-alice-key-123456';
export const BOB = 'attach-bob-key-1234567';

export interface AttachHarness {
  platform: Platform;
  logger: ReturnType<typeof memoryLogger>;
  dataDir: string;
  call(method: string, path: string, key?: string): Promise<{ status: number; body: any }>;
  newAgent(key?: string, provider?: string): Promise<string>;
  close(): Promise<void>;
}

/** The real platform (startPlatform, local backend, PGlite in a scratch dir) with two users. */
export async function startAttachHarness(
  attach: PlatformOptions['attach'] = {},
  config: Partial<PlatformOptions['config']> = {},
): Promise<AttachHarness> {
  const scratch = await mkdtemp(join(tmpdir(), 'forge-attach-'));
  const registry = createProviderRegistry();
  registry.register('scripted', scriptedDemoAgent({ delayMs: 5 }));
  const logger = memoryLogger();
  const dataDir = join(scratch, 'data');
  const platform = await startPlatform({
    config: {
      ...testConfig(),
      port: 0,
      dataDir,
      apiKeys: parseApiKeyList(`alice:${ALICE},bob:${BOB}`),
      defaultProvider: 'scripted',
      ...config,
    },
    logger,
    registry,
    attach,
  });
  const call = async (method: string, path: string, key = ALICE) => {
    const res = await fetch(`${platform.url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    platform,
    logger,
    dataDir,
    call,
    async newAgent(key = ALICE, provider = 'scripted') {
      const res = await fetch(`${platform.url}/api/v1/agents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider }),
      });
      return ((await res.json()) as { agent_id: string }).agent_id;
    },
    async close() {
      await platform.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** A v5.channel.k8s.io client that keeps what each channel said. */
export class ChannelClient {
  readonly out: Buffer[] = [];
  readonly err: Buffer[] = [];
  status: any;
  closed: Promise<number>;
  bytes = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
    /** False: count stdout's bytes only (a 50 MB output kept would be the test's own memory). */
    readonly keep = true,
  ) {
    ws.on('message', (data: Buffer) => {
      const body = data.subarray(1);
      if (data[0] === CHANNEL.stdout) {
        if (this.keep) this.out.push(body);
      } else if (data[0] === CHANNEL.stderr) this.err.push(body);
      else if (data[0] === CHANNEL.status) this.status = JSON.parse(body.toString());
      if (data[0] === CHANNEL.stdout || data[0] === CHANNEL.stderr) this.bytes += body.length;
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }

  static open(url: string, headers: Record<string, string> = {}, keep = true): Promise<ChannelClient> {
    const ws = new WebSocket(url, ['v5.channel.k8s.io'], { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new ChannelClient(ws, keep)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () =>
          reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })),
        );
      });
      ws.once('error', reject);
    });
  }

  get stdout(): string {
    return Buffer.concat(this.out).toString();
  }
  get stderr(): string {
    return Buffer.concat(this.err).toString();
  }

  send(text: string): void {
    this.ws.send(frame(CHANNEL.stdin, text));
  }
  resize(cols: number, rows: number): void {
    this.ws.send(frame(CHANNEL.resize, JSON.stringify({ Width: cols, Height: rows })));
  }
  closeStdin(): void {
    this.ws.send(Buffer.from([CHANNEL.close, CHANNEL.stdin]));
  }

  /** Resolves once stdout matches (bounded by the test's timeout). */
  async until(pattern: RegExp): Promise<string> {
    while (!pattern.test(this.stdout)) await new Promise<void>((r) => this.#waiters.push(r));
    return this.stdout;
  }
}

export function attachUrl(base: string, agentId: string, query: Record<string, string | string[]> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const x of [v].flat()) params.append(k, x);
  return `${base.replace(/^http/, 'ws')}/api/v1/agents/${agentId}/attach?${params}`;
}
