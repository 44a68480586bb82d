import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCodeAgent, createProviderRegistry, defaultCapabilities } from '@forge/core';
import { conformanceScript, scriptedAgent } from '@forge/core/testing';
import { startPlatform } from '../app.js';
import { loadConfig } from '../config.js';
import { jsonLogger } from '../logger.js';

/**
 * The real platform (startPlatform, configured from the environment like src/main.ts) with one
 * provider, "witness": it appends its run id and pid to FORGE_TEST_EXECUTIONS_LOG when a run starts
 * executing (so a test can tell whether any run executed twice) and then plays
 * FORGE_TEST_RUN_EVENTS text deltas FORGE_TEST_EVENT_DELAY_MS apart. The fault tests kill -9 it.
 * Agents created with provider "asker" play core's conformance script named by the prompt
 * ("permission" or "question"): they wait for a reply, which may come through another replica.
 */
const log = process.env.FORGE_TEST_EXECUTIONS_LOG!;
const events = Number(process.env.FORGE_TEST_RUN_EVENTS ?? 8);
const delayMs = Number(process.env.FORGE_TEST_EVENT_DELAY_MS ?? 20);

const registry = createProviderRegistry();
registry.register('witness', () =>
  createCodeAgent({
    provider: 'witness',
    declared: defaultCapabilities({ textDeltas: true }),
    async run(ctx) {
      appendFileSync(log, `${ctx.runId} ${process.pid}\n`);
      // "delay=N" in the prompt: this run's events are N ms apart (a long run to kill mid-way).
      const pause = Number(/delay=(\d+)/.exec(ctx.request.prompt)?.[1] ?? delayMs);
      for (let i = 0; i < events && !ctx.signal.aborted; i++) {
        ctx.emit({ type: 'text.delta', text: `${i} ` });
        if (pause) await sleep(pause, undefined, { signal: ctx.signal }).catch(() => {});
      }
      ctx.emit({ type: 'message', text: ctx.request.prompt });
      return { status: 'completed', text: ctx.request.prompt };
    },
  }),
);

registry.register(
  'asker',
  scriptedAgent({ steps: (r) => conformanceScript(r.prompt === 'question' ? 'question' : 'permission') }),
);

const config = loadConfig([], { ...process.env, FORGE_DEFAULT_PROVIDER: 'witness' });
const platform = await startPlatform({
  config,
  registry,
  logger: jsonLogger({ level: 'warn' }),
  pollMs: Number(process.env.FORGE_TEST_POLL_MS ?? 100),
});
console.log(JSON.stringify({ url: platform.url, instance: platform.runs.instanceId, hub: platform.remote?.url }));
process.on('SIGTERM', () => void platform.close().then(() => process.exit(0)));
