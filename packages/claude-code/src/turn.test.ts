import type { AgentEvent } from '@forge/core';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { claudeCode } from './agent.js';
import { fakeClaudeRunner, type FakeClaudeStep } from './testing/index.js';

const SUGGESTION = { type: 'setMode', mode: 'acceptEdits', destination: 'session' };
const WRITE: FakeClaudeStep = {
  tool: 'Write',
  input: { file_path: '/work/a.txt', content: 'a' },
  suggestions: [SUGGESTION],
  output: 'File created',
};

/** The control responses the agent wrote to the CLI's stdin. */
const responses = (received: Record<string, unknown>[]) =>
  received.filter((m) => m.type === 'control_response').map((m) => m.response as Record<string, unknown>);

async function asked(steps: FakeClaudeStep[], type: 'permission.requested' | 'question.requested') {
  const runner = fakeClaudeRunner({ turn: () => steps });
  const run = claudeCode({ runner }).execute({ prompt: 'go' });
  const reading = firstEvent(run, (e) => e.type === type);
  const event = (await reading.event) as AgentEvent & { id: string };
  return { runner, run, reading, event };
}

describe('permissions and questions over the control protocol', () => {
  it('can_use_tool → permission.requested; allow sends the input back as updatedInput', async () => {
    const { runner, run, reading, event } = await asked([WRITE, { text: 'Done.' }], 'permission.requested');
    expect(event).toMatchObject({ tool: 'Write', input: { file_path: '/work/a.txt', content: 'a' } });
    expect(event.raw).toMatchObject({ type: 'control_request', request: { subtype: 'can_use_tool' } });
    await run.respond(event.id, 'allow');
    const events = await reading.all;
    expect(runProblems(events, run.id)).toEqual([]);
    expect((await run.result).status).toBe('completed');
    expect(responses(runner.calls[0]!.cli.received)).toEqual([
      {
        subtype: 'success',
        request_id: event.id,
        response: { behavior: 'allow', updatedInput: { file_path: '/work/a.txt', content: 'a' } },
      },
    ]);
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ output: 'File created', isError: false });
  });

  it('allow_always adds the suggested rules as updatedPermissions; deny sends the message', async () => {
    const always = await asked([WRITE, { text: 'Done.' }], 'permission.requested');
    await always.run.respond(always.event.id, 'allow_always');
    await always.run.result;
    expect(responses(always.runner.calls[0]!.cli.received)[0]!.response).toEqual({
      behavior: 'allow',
      updatedInput: { file_path: '/work/a.txt', content: 'a' },
      updatedPermissions: [SUGGESTION],
    });

    const deny = await asked([WRITE, { text: 'Done.' }], 'permission.requested');
    await deny.run.respond(deny.event.id, 'deny', 'not here');
    const events = await deny.reading.all;
    expect(responses(deny.runner.calls[0]!.cli.received)[0]!.response).toEqual({
      behavior: 'deny',
      message: 'not here',
    });
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ output: 'not here', isError: true });
  });

  it('answers before the event has been read', async () => {
    const runner = fakeClaudeRunner({ turn: () => [WRITE, { text: 'Done.' }] });
    const run = claudeCode({ runner }).execute({ prompt: 'go' });
    // Nobody reads the events; the answer is taken as soon as the request has arrived (the fake numbers them req-1…).
    await vi.waitFor(() => run.respond('req-1', 'allow'));
    expect((await run.result).status).toBe('completed');
  });

  it('AskUserQuestion → question.requested; answers go back keyed by question text, several joined', async () => {
    const steps: FakeClaudeStep[] = [
      {
        ask: [
          {
            question: 'Which color?',
            header: 'Color',
            options: [{ label: 'Red', description: 'warm' }, { label: 'Blue' }],
          },
          { question: 'Which sizes?', options: [{ label: 'S' }, { label: 'M' }, { label: 'L' }], multiSelect: true },
        ],
      },
      { text: 'Noted.' },
    ];
    const { runner, run, reading, event } = await asked(steps, 'question.requested');
    expect(event).toMatchObject({
      questions: [
        {
          question: 'Which color?',
          header: 'Color',
          options: [{ label: 'Red', description: 'warm' }, { label: 'Blue' }],
          multiple: false,
          custom: true,
        },
        { question: 'Which sizes?', options: [{ label: 'S' }, { label: 'M' }, { label: 'L' }], multiple: true },
      ],
    });
    await expect(run.respond(event.id, 'allow')).rejects.toMatchObject({ code: 'PERMISSION_NOT_FOUND' });
    await run.answer(event.id, [['Blue'], ['S', 'L']]);
    const events = await reading.all;
    expect((await run.result).status).toBe('completed');
    const response = responses(runner.calls[0]!.cli.received)[0]!.response as {
      behavior: string;
      updatedInput: { questions: unknown[]; answers: Record<string, string> };
    };
    expect(response.behavior).toBe('allow');
    expect(response.updatedInput.answers).toEqual({ 'Which color?': 'Blue', 'Which sizes?': 'S, L' });
    expect(response.updatedInput.questions).toHaveLength(2);
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({
      output: 'Your questions have been answered: "Which color?"="Blue", "Which sizes?"="S, L".',
    });
  });

  it('an AskUserQuestion without questions is offered as a plain permission', async () => {
    const { run, event } = await asked([{ tool: 'AskUserQuestion', input: { odd: true } }], 'permission.requested');
    expect(event).toMatchObject({ tool: 'AskUserQuestion', input: { odd: true } });
    await run.respond(event.id, 'deny');
    expect((await run.result).status).toBe('completed');
  });

  it('cancel while a permission waits: interrupt, the CLI withdraws the request, the run ends cancelled', async () => {
    const { runner, run, reading, event } = await asked([WRITE, { text: 'Done.' }], 'permission.requested');
    const result = await run.cancel('no');
    expect(result).toMatchObject({ status: 'cancelled', sessionId: runner.calls[0]!.cli.sessionId });
    const events = await reading.all;
    expect(runProblems(events, run.id)).toEqual([]);
    expect(events.some((e) => e.type === 'log' && e.text.includes('withdrew'))).toBe(true);
    const sent = runner.calls[0]!.cli.received;
    expect(
      sent.some((m) => m.type === 'control_request' && (m.request as { subtype: string }).subtype === 'interrupt'),
    ).toBe(true);
    expect(runner.calls[0]!.signals).toEqual([]);
    await expect(run.respond(event.id, 'allow')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
  });

  it('a respond that comes after the CLI withdrew its request is refused with NotFoundError', async () => {
    const runner = fakeClaudeRunner({ turn: () => [WRITE, { text: 'Done.' }] });
    const run = claudeCode({ runner }).execute({ prompt: 'go' });
    let id = '';
    let refused: unknown;
    for await (const e of run) {
      // The CLI withdraws the request on its own (as after an interrupt from elsewhere).
      if (e.type === 'permission.requested') {
        id = e.id;
        runner.calls[0]!.cli.interrupt();
      }
      if (e.type === 'log' && e.text.includes('withdrew')) refused = await run.respond(id, 'allow').catch((x) => x);
    }
    expect(refused).toMatchObject({ code: 'PERMISSION_NOT_FOUND', category: 'not_found' });
    expect(responses(runner.calls[0]!.cli.received)).toEqual([]);
  });

  it('answers a control request it does not know with an error, so the CLI is not left waiting', async () => {
    const runner = fakeClaudeRunner({
      turn: () => [
        {
          line: {
            type: 'control_request',
            request_id: 'hook-1',
            request: { subtype: 'hook_callback', callback_id: 'x' },
          },
        },
        { text: 'Done.' },
      ],
    });
    const { result } = await collectRun(claudeCode({ runner }).execute({ prompt: 'go' }));
    expect(result.status).toBe('completed');
    expect(responses(runner.calls[0]!.cli.received)).toEqual([
      { subtype: 'error', request_id: 'hook-1', error: 'unsupported control request: hook_callback' },
    ]);
  });

  it('cancel: a CLI that ignores the interrupt gets the signals after the grace period', async () => {
    const runner = fakeClaudeRunner({ turn: () => [{ hang: true }], deafToInterrupt: true });
    const run = claudeCode({ runner, sigintGraceMs: 20 }).execute({ prompt: 'go' });
    await firstEvent(run).event;
    const result = await run.cancel();
    expect(result).toMatchObject({ status: 'cancelled', sessionId: runner.calls[0]!.cli.sessionId });
    expect(runner.calls[0]!.signals[0]).toBe('SIGINT');
    expect(runner.calls[0]!.exit).toBeDefined();
  });
});
