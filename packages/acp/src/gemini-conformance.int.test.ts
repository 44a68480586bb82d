import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConformanceScenario, describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { geminiCli } from './presets.js';
import { alive, trackingRunner, waitFor } from './test-support/int-rig.js';
import { type FakeGeminiApi, fakeGeminiEnv, geminiBinPath, startFakeGeminiApi } from './testing/index.js';

/**
 * Core's conformance suite against the real Gemini CLI 0.61.0 (`gemini --acp`) and the fake Gemini API on
 * 127.0.0.1. A file of its own (not in gemini.int.test.ts), so the test pool runs the two side by side: both
 * mostly wait for the CLI. The suite's tests run concurrently too, so each scenario has a fake API (and env) of
 * its own.
 */
describe('geminiCli conformance (real CLI)', () => {
  const apis = new Map<ConformanceScenario, { api: FakeGeminiApi; env: Record<string, string> }>();
  let scratch: string;
  let written = 0;
  const runner = trackingRunner();
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-gemini-conf-'));
    await mkdir(join(scratch, 'work'));
    for (const mode of ['complete', 'hang', 'permission', 'question'] as const) {
      const api = await startFakeGeminiApi({
        respond: (r) =>
          mode === 'hang'
            ? { hang: true }
            : mode === 'permission' && !r.hasFunctionResponse
              ? {
                  functionCall: {
                    name: 'write_file',
                    args: { file_path: `conformance-${++written}.txt`, content: 'x\n' },
                  },
                }
              : { text: 'Conformance answer.' },
      });
      apis.set(mode, { api, env: await fakeGeminiEnv(api.url, join(scratch, `home-${mode}`)) });
    }
  });
  afterAll(async () => {
    // Every agent has been closed by the suite: none of their processes may be left.
    const allGone = await waitFor(() => runner.spawned.every((p) => !alive(p.pid)), 5_000);
    for (const p of runner.spawned) if (alive(p.pid)) p.kill('SIGKILL');
    for (const { api } of apis.values()) await api.close();
    await rm(scratch, { recursive: true, force: true });
    expect(allGone).toBe(true);
  });
  describeCodeAgentConformance('geminiCli', {
    testTimeoutMs: 60_000,
    concurrent: true,
    // One agent process per scenario for the file, each run a session of its own: a process start was most of
    // the file's CPU.
    shareAgents: true,
    makeAgent: (scenario) =>
      geminiCli({ bin: geminiBinPath(), runner, cwd: join(scratch, 'work'), env: apis.get(scenario)!.env }),
  });
});
