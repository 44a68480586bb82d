import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCodeAgentConformance, type ConformanceScenario } from '@forge/core/testing/conformance';
import { afterAll, beforeAll } from 'vitest';
import { claudeCode } from './agent.js';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
  type FakeReply,
} from './testing/index.js';

/**
 * Core's conformance suite against the real CLI 2.1.197 and the fake Messages API: the scenario of the agent
 * being tested decides what the fake model does. The tests run concurrently (they mostly wait for the CLI), so
 * each scenario has a fake API of its own.
 */
const apis = new Map<ConformanceScenario, FakeAnthropicApi>();
let scratch: string;
let writes = 0;

const replies: Record<ConformanceScenario, (toolDone: boolean) => FakeReply> = {
  complete: () => ({ text: 'Conformance answer.' }),
  hang: () => ({ hang: true }),
  permission: (done) =>
    done
      ? { text: 'Handled.' }
      : // A new file each time: the CLI refuses, without asking, to overwrite a file it has not read.
        { toolUse: { name: 'Write', input: { file_path: join(scratch, `note-${++writes}.txt`), content: 'x' } } },
  question: (done) =>
    done
      ? { text: 'Noted.' }
      : {
          toolUse: {
            name: 'AskUserQuestion',
            input: {
              questions: [
                {
                  question: 'Which one?',
                  header: 'Pick',
                  multiSelect: false,
                  // The CLI checks the tool's input: every option needs its description.
                  options: [
                    { label: 'A', description: 'first' },
                    { label: 'B', description: 'second' },
                  ],
                },
              ],
            },
          },
        },
};

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'forge-claude-conf-'));
  for (const scenario of Object.keys(replies) as ConformanceScenario[])
    apis.set(scenario, await startFakeAnthropicApi({ respond: (req) => replies[scenario](req.hasToolResult) }));
});
afterAll(async () => {
  for (const api of apis.values()) await api.close();
  await rm(scratch, { recursive: true, force: true });
});

describeCodeAgentConformance('claudeCode with the real CLI against the fake API', {
  makeAgent: (s) =>
    claudeCode({
      bin: claudeBinPath(),
      cwd: scratch,
      env: { ...fakeAnthropicEnv(apis.get(s)!.url), HOME: join(scratch, 'home') },
    }),
  concurrent: true,
  timeoutMs: 2_000,
  testTimeoutMs: 60_000,
});
