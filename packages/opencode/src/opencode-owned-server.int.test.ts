import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectRun } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { opencode } from './index.js';
import { processesLeftUsing, processesUsing } from './test-support/processes-using.js';
import {
  fakeOpencodeConfig,
  isolatedOpencodeEnv,
  lastUserText,
  opencodeBinPath,
  startFakeOpenAiApi,
  type ChatRequest,
  type FakeReply,
} from './testing/index.js';

/*
 * An agent that starts its own real `opencode serve` (a cold start of its own: tens of seconds on a small
 * machine). A file of its own, not in opencode.int.test.ts, so the test pool runs it beside that file's tests
 * on their shared server instead of after them.
 */
function reply(request: ChatRequest): FakeReply {
  if (!request.tools?.length) return { kind: 'text', text: 'Fake title' };
  return { kind: 'text', text: `Hello from fake: ${lastUserText(request)}` };
}

describe('an agent that owns its real `opencode serve`', () => {
  it('starts it on first use, answers, and close() leaves no process behind', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'forge-opencode-own-'));
    const project = join(scratch, 'project');
    await mkdir(project, { recursive: true });
    execFileSync('git', ['init', '-q', project]);
    const api = await startFakeOpenAiApi({ reply });
    const agent = opencode({
      server: {
        bin: opencodeBinPath(),
        cwd: project,
        env: isolatedOpencodeEnv(scratch),
        inheritEnv: false,
        config: fakeOpencodeConfig(api.url),
        startTimeoutMs: 60_000,
      },
    });
    try {
      const { result } = await collectRun(agent.execute({ prompt: 'Hi owner', timeoutMs: 60_000 }));
      expect(result).toMatchObject({ status: 'completed', text: 'Hello from fake: Hi owner' });
      expect(await processesUsing(scratch)).not.toEqual([]);
    } finally {
      await agent.close?.();
      await api.close();
    }
    try {
      expect(await processesLeftUsing(scratch)).toEqual([]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 90_000);
});
