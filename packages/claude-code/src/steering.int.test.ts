import type { AgentEvent } from '@forge/core';
import { runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { claudeCliRig } from './test-support/claude-cli-rig.js';

/** `run.steer` with the real CLI against the fake Messages API: the steering text reaches the model. */
describe('claudeCode steering with the real CLI against a fake Anthropic API', () => {
  const rig = claudeCliRig();
  const { agent, turns, ofType } = rig;
  const sawSteer = (body: unknown) => JSON.stringify(body).includes('mind the tests');

  it('a message steered while a tool runs joins the running turn: the next model request carries it', async () => {
    rig.responder = (req) =>
      req.hasToolResult
        ? { text: sawSteer(req.body.messages) ? 'Noted: minding the tests.' : 'No steering seen.' }
        : { toolUse: { name: 'Bash', input: { command: 'sleep 1; echo done', description: 'work a while' } } };
    const run = agent().execute({ prompt: 'do the work', allowedTools: ['Bash'] });
    const events: AgentEvent[] = [];
    for await (const e of run) {
      events.push(e);
      if (e.type === 'tool.call') await run.steer('and mind the tests');
    }
    const result = await run.result;
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'Noted: minding the tests.', turns: 2 });
    expect(turns()).toHaveLength(2);
    expect(sawSteer(turns()[0]!.body.messages)).toBe(false);
    expect(sawSteer(turns()[1]!.body.messages)).toBe(true);
  });

  it('a message steered while the model gives its last answer runs after it, in the same run', async () => {
    rig.responder = (req) =>
      sawSteer(req.body.messages)
        ? { text: 'Second thoughts: tests minded.' }
        : { text: 'one two three four five six seven eight', delayMs: 150 };
    const a = agent();
    const run = a.execute({ prompt: 'answer slowly' });
    const events: AgentEvent[] = [];
    let steered = false;
    for await (const e of run) {
      events.push(e);
      if (e.type === 'text.delta' && !steered) {
        steered = true;
        await run.steer('and mind the tests');
      }
    }
    const result = await run.result;
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'Second thoughts: tests minded.' });
    expect(ofType(events, 'message').map((m) => m.text)).toEqual([
      'one two three four five six seven eight',
      'Second thoughts: tests minded.',
    ]);
    expect(turns().some((t) => t.lastUserText.includes('mind the tests'))).toBe(true);
    // The session's warm process takes the next turn, with nothing of the steered one left over.
    rig.responder = () => ({ text: 'Next.' });
    const next = await a.execute({ prompt: 'next', sessionId: result.sessionId! }).result;
    expect(next).toMatchObject({ status: 'completed', text: 'Next.' });
  });
});
