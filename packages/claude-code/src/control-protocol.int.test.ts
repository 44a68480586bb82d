import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { collectRun, firstEvent, runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { claudeCliRig } from './test-support/claude-cli-rig.js';

/** The control protocol with the real CLI against the fake Messages API: permission requests and questions. */
describe('claudeCode with the real CLI: permissions and questions over the control protocol', () => {
  const rig = claudeCliRig();
  const { agent, spawned, turns, toolResult, ofType } = rig;

  const writeOf = (name: string) => ({
    toolUse: { name: 'Write', input: { file_path: join(rig.scratch, name), content: `${name}\n` } },
  });
  const exists = (name: string) =>
    stat(join(rig.scratch, name)).then(
      () => true,
      () => false,
    );

  it('allow: the tool runs with its input', async () => {
    rig.responder = (req) => (req.hasToolResult ? { text: 'Written.' } : writeOf('allowed.txt'));
    const run = agent().execute({ prompt: 'write a file' });
    const asked = await firstEvent(run, (e) => e.type === 'permission.requested').event;
    expect(asked).toMatchObject({ tool: 'Write', input: { file_path: join(rig.scratch, 'allowed.txt') } });
    expect(await exists('allowed.txt')).toBe(false);
    await run.respond((asked as { id: string }).id, 'allow');
    const result = await run.result;
    expect(result).toMatchObject({ status: 'completed', text: 'Written.' });
    expect(await readFile(join(rig.scratch, 'allowed.txt'), 'utf8')).toBe('allowed.txt\n');
    expect(turns().at(-1)!.hasToolResult).toBe(true);
  });

  it('deny: the model gets the message as an error result and the turn goes on', async () => {
    rig.responder = (req) => (req.hasToolResult ? { text: `Refused: ${toolResult(req)}` } : writeOf('denied.txt'));
    const run = agent().execute({ prompt: 'write a file' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    await run.respond(((await reading.event) as { id: string }).id, 'deny', 'not in this repo');
    const [events, result] = await Promise.all([reading.all, run.result]);
    expect(result).toMatchObject({ status: 'completed', text: 'Refused: not in this repo' });
    expect(ofType(events, 'tool.result')[0]).toMatchObject({ isError: true, output: 'not in this repo' });
    expect(await exists('denied.txt')).toBe(false);
  });

  it('allow_always: the suggested rule is applied, so the next write of the session is not asked for', async () => {
    rig.responder = (req) =>
      !req.hasToolResult ? writeOf('always-1.txt') : turns().length === 2 ? writeOf('always-2.txt') : { text: 'Both.' };
    const run = agent().execute({ prompt: 'write two files' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    await run.respond(((await reading.event) as { id: string }).id, 'allow_always');
    const [events, result] = await Promise.all([reading.all, run.result]);
    expect(result).toMatchObject({ status: 'completed', text: 'Both.' });
    expect(ofType(events, 'permission.requested')).toHaveLength(1);
    expect(await exists('always-1.txt')).toBe(true);
    expect(await exists('always-2.txt')).toBe(true);
  });

  it('a question: AskUserQuestion becomes question.requested, and the answer reaches the model', async () => {
    const questions = [
      {
        question: 'Which color do you prefer?',
        header: 'Color',
        multiSelect: false,
        options: [
          { label: 'Red', description: 'warm' },
          { label: 'Blue', description: 'cool' },
        ],
      },
    ];
    rig.responder = (req) =>
      req.hasToolResult
        ? { text: `Noted: ${toolResult(req)}` }
        : { toolUse: { name: 'AskUserQuestion', input: { questions } } };
    const run = agent().execute({ prompt: 'ask me' });
    const asked = await firstEvent(run, (e) => e.type === 'question.requested').event;
    expect(asked).toMatchObject({
      questions: [
        {
          question: 'Which color do you prefer?',
          header: 'Color',
          multiple: false,
          custom: true,
          options: [
            { label: 'Red', description: 'warm' },
            { label: 'Blue', description: 'cool' },
          ],
        },
      ],
    });
    await run.answer((asked as { id: string }).id, [['Blue']]);
    const result = await run.result;
    expect(result.status).toBe('completed');
    expect(result.text).toContain('"Which color do you prefer?"="Blue"');
  });

  it('cancel while a permission waits: cancelled with the session, which then goes on in the same process', async () => {
    rig.responder = (req) =>
      req.lastUserText.includes('go on')
        ? { text: 'Going on.' }
        : req.hasToolResult
          ? { text: 'x' }
          : writeOf('never.txt');
    const a = agent();
    const before = spawned.length;
    const run = a.execute({ prompt: 'write a file' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as { id: string };
    const result = await run.cancel('changed my mind');
    expect(result).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect(result.sessionId).toMatch(/\S/);
    expect(runProblems(await reading.all, run.id)).toEqual([]);
    await expect(run.respond(asked.id, 'allow')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
    expect(await exists('never.txt')).toBe(false);

    const next = await collectRun(a.execute({ prompt: 'go on', sessionId: result.sessionId! }));
    expect(next.result).toMatchObject({ status: 'completed', text: 'Going on.', sessionId: result.sessionId });
    expect(spawned.length - before).toBe(1);
  });
});
