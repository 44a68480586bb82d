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
 * mostly wait for the CLI.
 */
describe('geminiCli conformance (real CLI)', () => {
  let api: FakeGeminiApi;
  let scratch: string;
  let env: Record<string, string>;
  let mode: ConformanceScenario = 'complete';
  let written = 0;
  const runner = trackingRunner();
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-gemini-conf-'));
    await mkdir(join(scratch, 'work'));
    api = await startFakeGeminiApi({
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
    env = await fakeGeminiEnv(api.url, join(scratch, 'home'));
  });
  afterAll(async () => {
    // Every agent has been closed by the suite: none of their processes may be left.
    const allGone = await waitFor(() => runner.spawned.every((p) => !alive(p.pid)), 5_000);
    for (const p of runner.spawned) if (alive(p.pid)) p.kill('SIGKILL');
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
    expect(allGone).toBe(true);
  });
  describeCodeAgentConformance('geminiCli', {
    testTimeoutMs: 60_000,
    makeAgent: (scenario) => {
      mode = scenario;
      return geminiCli({ bin: geminiBinPath(), runner, cwd: join(scratch, 'work'), env });
    },
  });
});
