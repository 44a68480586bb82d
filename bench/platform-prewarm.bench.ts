import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { claudeBinPath, fakeAnthropicEnv, startFakeAnthropicApi } from '@forge/claude-code/testing';
import { openStore } from '@forge/store';
import { loadConfig, parseApiKeyList, startPlatform, type Platform } from '@forge/example-platform/app';
import type { BenchModule, BenchRow } from './harness.js';

const KEY = 'bench-prewarm-key-0123456789';
const TURNS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * A new session's first turn through the platform (local backend, the real Claude Code CLI against the fake
 * Messages API): `POST /agents/:id/messages` without a session → the run read back completed. With a spare
 * (FORGE_PREWARM_MAX=2: the agent's spare, started after its last run, has had 10 s to start) vs without
 * (FORGE_PREWARM_MAX=0: the CLI started by the message). Two platforms in this process, interleaved.
 */
const bench: BenchModule = {
  title: 'platform prewarm',
  async run(): Promise<BenchRow[]> {
    const scratch = await mkdtemp(join(tmpdir(), 'forge-bench-platform-prewarm-'));
    const api = await startFakeAnthropicApi({ respond: () => ({ text: 'One line.' }) });
    const platforms: Platform[] = [];
    const start = async (prewarmMax: number) => {
      const platform = await startPlatform({
        config: {
          ...loadConfig([], {}),
          port: 0,
          host: '127.0.0.1',
          dataDir: join(scratch, `data-${prewarmMax}`),
          apiKeys: parseApiKeyList(`bench:${KEY}`),
          defaultProvider: 'claude-code',
          claudeBin: claudeBinPath(),
          prewarmMax,
        },
        claudeEnv: { ...fakeAnthropicEnv(api.url), HOME: join(scratch, `home-${prewarmMax}`) },
        store: await openStore({ memory: true }),
        pollMs: 10,
      });
      platforms.push(platform);
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(platform.url + path, {
          method,
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      };
      const agentId = (await call('POST', '/api/v1/agents', {})).agent_id as string;
      /**
       * One turn (a new session's first, or `sessionId`'s next), ms from the POST to the run read back completed
       * (polled every 5 ms).
       */
      const turn = async (sessionId?: string) => {
        const t0 = performance.now();
        const sent = await call('POST', `/api/v1/agents/${agentId}/messages`, {
          content: 'hello, in one line',
          ...(sessionId ? { session_id: sessionId } : {}),
        });
        for (;;) {
          const run = await call('GET', `/api/v1/agents/${agentId}/runs/${sent.request_id}`);
          if (run.status === 'completed')
            return { ms: performance.now() - t0, sessionId: run.result.sessionId as string };
          if (run.status === 'failed' || run.status === 'cancelled') throw new Error(`run ${run.status}`);
          await sleep(5);
        }
      };
      return turn;
    };
    // The time a spare takes to start and load on this loaded machine, so each turn with a spare finds it ready.
    const settle = () => sleep(10_000);
    try {
      const withSpare = await start(2);
      const without = await start(0);
      await settle();
      await withSpare();
      await without();
      const warm: number[] = [];
      const cold: number[] = [];
      const followUps: number[] = [];
      const loads: number[] = [];
      for (let i = 0; i < TURNS; i++) {
        await settle();
        loads.push(loadavg()[0]!);
        const first = await withSpare();
        warm.push(first.ms);
        cold.push((await without()).ms);
        // The platform's own floor at this load: the same session's next turn, in its warm process.
        followUps.push((await withSpare(first.sessionId)).ms);
      }
      return [
        {
          name: "new session's first turn with the agent's spare vs without (FORGE_PREWARM_MAX=2 vs 0; real CLI, fake API), median POST message → run completed",
          unit: 'ms',
          lowerIsBetter: true,
          ours: median(warm),
          baseline: median(cold),
          baselineName: 'FORGE_PREWARM_MAX=0: the CLI started by the message',
          note: `lower is better; ${TURNS} turns each (with ${warm.map(Math.round).join(' / ')} ms, without ${cold.map(Math.round).join(' / ')} ms), load average ${loads.map((l) => l.toFixed(1)).join(' / ')}`,
        },
        {
          name: 'for scale: the same session’s follow-up turn (its warm process) vs the first turn without a spare',
          unit: 'ms',
          lowerIsBetter: true,
          ours: median(followUps),
          baseline: median(cold),
          baselineName: 'FORGE_PREWARM_MAX=0 first turn',
          note: `the platform's floor for a turn at this load (${followUps.map(Math.round).join(' / ')} ms)`,
        },
      ];
    } finally {
      for (const p of platforms) await p.close();
      await api.close();
      await rm(scratch, { recursive: true, force: true });
    }
  },
};
export default bench;
