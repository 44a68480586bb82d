import { collectRun } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { claudeCliRig } from './test-support/claude-cli-rig.js';

/** `execute({ sessionId, fork: true })` with the real CLI against the fake Messages API. */
describe('claudeCode fork with the real CLI against a fake Anthropic API', () => {
  const rig = claudeCliRig();
  const { agent, turns } = rig;
  const history = () => JSON.stringify(turns().at(-1)!.body.messages);

  it.each([
    ['warm', {}],
    ['cold', { warmSessions: false as const }],
  ])('forks a session (%s) and continues both branches independently', async (_name, options) => {
    rig.responder = (req) => ({ text: `Answer to: ${req.lastUserText}` });
    const a = agent({}, options);
    const root = await collectRun(a.execute({ prompt: 'root question' }));
    expect(root.result.status).toBe('completed');
    const original = root.result.sessionId!;

    const fork = await a.execute({ prompt: 'branch B first', sessionId: original, fork: true }).result;
    expect(fork.status).toBe('completed');
    expect(fork.sessionId).toMatch(/\S/);
    expect(fork.sessionId).not.toBe(original);
    expect(history()).toContain('root question');

    const cont = await a.execute({ prompt: 'branch A next', sessionId: original }).result;
    expect(cont).toMatchObject({ status: 'completed', sessionId: original });
    expect(history()).toContain('root question');
    expect(history()).not.toContain('branch B first');

    const forked = await a.execute({ prompt: 'branch B next', sessionId: fork.sessionId! }).result;
    expect(forked).toMatchObject({ status: 'completed', sessionId: fork.sessionId });
    expect(history()).toContain('root question');
    expect(history()).toContain('branch B first');
    expect(history()).not.toContain('branch A next');
  });
});
