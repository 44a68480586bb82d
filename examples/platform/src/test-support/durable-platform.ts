import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCodeAgent, createProviderRegistry, defaultCapabilities } from '@forge/core';
import { conformanceScript, scriptedAgent } from '@forge/core/testing';
import { grpcAgent } from '@forge/transport-grpc';
import { startPlatform } from '../app.js';
import { k8sBackend } from '../backends/k8s-backend.js';
import { loadConfig } from '../config.js';
import { stopPlatform } from '../graceful-stop.js';
import { jsonLogger } from '../logger.js';
import { sharedPod } from './shared-pod.js';

/**
 * The real platform (startPlatform, configured from the environment like src/main.ts) with one
 * provider, "witness": it appends its run id and pid to FORGE_TEST_EXECUTIONS_LOG when a run starts
 * executing (so a test can tell whether any run executed twice) and then plays
 * FORGE_TEST_RUN_EVENTS text deltas FORGE_TEST_EVENT_DELAY_MS apart. The fault tests kill -9 it.
 * Agents created with provider "asker" play core's conformance script named by the prompt
 * ("permission" or "question"): they wait for a reply, which may come through another replica.
 * With FORGE_TEST_POD_URL, the backend is k8s and every agent is the gRPC agent server at that URL
 * (test-support/shared-pod.ts), shared by the replicas. SIGTERM stops it as src/main.ts does (a drain of
 * FORGE_DRAIN_MS, default 0 here, then close).
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

const podUrl = process.env.FORGE_TEST_POD_URL;
const config = loadConfig([], {
  ...process.env,
  FORGE_DEFAULT_PROVIDER: podUrl ? 'scripted' : 'witness',
  FORGE_DRAIN_MS: process.env.FORGE_DRAIN_MS ?? '0',
});
const logger = jsonLogger({ level: (process.env.FORGE_TEST_LOG_LEVEL as 'info' | undefined) ?? 'warn' });
const platform = await startPlatform({
  config,
  registry,
  logger,
  pollMs: Number(process.env.FORGE_TEST_POLL_MS ?? 100),
  ...(podUrl
    ? {
        backend: k8sBackend({
          pods: sharedPod(podUrl),
          providers: ['scripted'],
          connect: (baseUrl, provider) => grpcAgent({ baseUrl, provider }),
        }),
      }
    : {}),
});
console.log(JSON.stringify({ url: platform.url, instance: platform.runs.instanceId, hub: platform.remote?.url }));
process.on('SIGTERM', () => void stopPlatform(platform, 'SIGTERM', logger).then(() => process.exit(0)));
