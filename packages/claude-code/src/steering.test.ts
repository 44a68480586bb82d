import type { AgentEvent } from '@forge/core';
import { firstEvent, runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { claudeCode } from './agent.js';
import { fakeClaudeRunner, type FakeClaudeStep } from './testing/index.js';

const WRITE: FakeClaudeStep = { tool: 'Write', input: { file_path: '/work/a.txt', content: 'a' }, output: 'ok' };

describe('run.steer over stream-json input', () => {
  it('writes a user message while the turn runs; a turn the CLI runs for it after the result belongs to the run', async () => {
    const runner = fakeClaudeRunner({
      turn: (prompt, i) => (i === 0 ? [WRITE, { text: 'first answer' }] : [{ text: `steered: ${prompt}` }]),
    });
    const agent = claudeCode({ runner });
    const run = agent.execute({ prompt: 'go' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as AgentEvent & { id: string };
    await run.steer('and mind the tests');
    await run.respond(asked.id, 'allow');
    const events = await reading.all;
    expect(runProblems(events, run.id)).toEqual([]);
    const result = await run.result;
    // The fake CLI takes the message as a turn of its own (as the real one does once the model has answered).
    expect(result).toMatchObject({ status: 'completed', text: 'steered: and mind the tests', turns: 3 });
    const sent = runner.calls[0]!.cli.received.filter((m) => m.type === 'user');
    expect(sent.map((m) => (m.message as { content: unknown }).content)).toEqual(['go', 'and mind the tests']);
    expect(events.filter((e) => e.type === 'message').map((e) => e.type === 'message' && e.text)).toEqual([
      'first answer',
      'steered: and mind the tests',
    ]);
    // The next run of the session gets the warm process, with nothing of the steered turn left over.
    const next = await agent.execute({ prompt: 'again', sessionId: result.sessionId! }).result;
    expect(next).toMatchObject({ status: 'completed', text: 'steered: again' });
    expect(runner.calls.filter((c) => c.args[0] !== '--version')).toHaveLength(1);
    await agent.close?.();
  });

  it('a steer right after execute waits for the CLI and is written after the prompt, never before it', async () => {
    const runner = fakeClaudeRunner({});
    // A CLI that takes a while to start, as a real one does.
    const slow = {
      spawn: async (...args: Parameters<typeof runner.spawn>) => {
        await new Promise((r) => setTimeout(r, 30));
        return runner.spawn(...args);
      },
    };
    const run = claudeCode({ runner: slow }).execute({ prompt: 'the prompt' });
    await run.steer('the steer');
    const result = await run.result;
    const sent = runner.calls.find((c) => c.args[0] !== '--version')!.cli.received.filter((m) => m.type === 'user');
    expect(sent.map((m) => (m.message as { content: unknown }).content)).toEqual(['the prompt', 'the steer']);
    expect(result).toMatchObject({ status: 'completed', text: 'You said: the steer' });
  });

  it('refuses a steer once the run has ended', async () => {
    const runner = fakeClaudeRunner({});
    const run = claudeCode({ runner }).execute({ prompt: 'go' });
    await run.result;
    await expect(run.steer('late')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
  });
});
