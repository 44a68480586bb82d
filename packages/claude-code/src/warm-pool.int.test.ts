import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { collectRun } from '@forge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { claudeCliRig } from './test-support/claude-cli-rig.js';

/** Warm sessions with the real CLI against the fake Messages API: a session's process kept between turns. */
describe('claudeCode with the real CLI: warm sessions', () => {
  const rig = claudeCliRig();
  const { agent, spawned, turns, ofType, alive } = rig;

  it('a follow-up turn is written into the same process, which keeps the history', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const a = agent();
    const before = spawned.length;
    const first = await collectRun(a.execute({ prompt: 'first' }));
    const sessionId = first.result.sessionId!;
    const second = await collectRun(a.execute({ prompt: 'second', sessionId }));
    expect(second.result).toMatchObject({ status: 'completed', text: 'You said: second', sessionId });
    expect(spawned.length - before).toBe(1);
    expect(alive(spawned[before]!.pid)).toBe(true);
    expect(JSON.stringify(turns().at(-1)!.body.messages)).toContain('first');
    expect(ofType(second.events, 'session.started')[0]!.sessionId).toBe(sessionId);
  });

  it('options that differ start a fresh process with --resume', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const a = agent();
    const before = spawned.length;
    const first = await collectRun(a.execute({ prompt: 'first' }));
    const sessionId = first.result.sessionId!;
    const second = await collectRun(a.execute({ prompt: 'second', sessionId, model: 'sonnet' }));
    expect(second.result).toMatchObject({ status: 'completed', sessionId });
    expect(spawned.length - before).toBe(2);
    // The first one was ended: one session, one writer.
    await vi.waitFor(() => expect(alive(spawned[before]!.pid)).toBe(false));
  });

  it('an idle process is ended after idleMs; the next turn resumes cold', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const a = agent({}, { warmSessions: { idleMs: 200 } });
    const before = spawned.length;
    const first = await collectRun(a.execute({ prompt: 'first' }));
    await vi.waitFor(() => expect(alive(spawned[before]!.pid)).toBe(false), { timeout: 10_000 });
    const sessionId = first.result.sessionId!;
    const second = await collectRun(a.execute({ prompt: 'second', sessionId }));
    expect(second.result).toMatchObject({ status: 'completed', text: 'You said: second', sessionId });
    expect(spawned.length - before).toBe(2);
    expect(JSON.stringify(turns().at(-1)!.body.messages)).toContain('first');
  });

  it('a warm process killed between turns is replaced by a cold --resume, transparently', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const a = agent();
    const before = spawned.length;
    const first = await collectRun(a.execute({ prompt: 'first' }));
    const sessionId = first.result.sessionId!;
    // The CLI writes the session's transcript shortly after its result; a process killed before that has nothing
    // to resume (the cold start then says "No conversation found"). "Between turns" means after it did.
    await vi.waitFor(
      async () => {
        const files = await readdir(join(rig.scratch, 'home', '.claude', 'projects'), { recursive: true });
        expect(files.some((f) => String(f).endsWith(`${sessionId}.jsonl`))).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );
    spawned[before]!.kill('SIGKILL');
    await spawned[before]!.exited;
    const second = await collectRun(a.execute({ prompt: 'second', sessionId }));
    expect(second.result).toMatchObject({ status: 'completed', text: 'You said: second' });
    expect(spawned.length - before).toBe(2);
    expect(JSON.stringify(turns().at(-1)!.body.messages)).toContain('first');
  });

  it('close() ends every warm process', async () => {
    rig.responder = (req) => ({ text: `You said: ${req.lastUserText}` });
    const a = agent();
    const before = spawned.length;
    await Promise.all([collectRun(a.execute({ prompt: 'one' })), collectRun(a.execute({ prompt: 'two' }))]);
    const procs = spawned.slice(before);
    expect(procs).toHaveLength(2);
    for (const p of procs) expect(alive(p.pid)).toBe(true);
    await a.close?.();
    for (const p of procs) expect(alive(p.pid)).toBe(false);
  });

  it('warmSessions: false ends the process with its run', async () => {
    rig.responder = () => ({ text: 'Done.' });
    const before = spawned.length;
    const { result } = await collectRun(agent({}, { warmSessions: false }).execute({ prompt: 'x' }));
    expect(result.status).toBe('completed');
    expect(alive(spawned[before]!.pid)).toBe(false);
  });
});
