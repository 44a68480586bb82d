import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptStep } from './scripted-agent.js';
import { scriptedAgent } from './scripted-agent.js';
import { firstEvent } from './collect.js';

const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

describe('scriptedAgent', () => {
  it('awaits many replies in one run without piling listeners on its signal', async () => {
    process.on('warning', onWarning);
    const steps: ScriptStep[] = [];
    for (let i = 1; i <= 20; i++)
      steps.push(
        { type: 'permission.requested', id: `perm_${i}`, tool: 'Bash', input: { command: `echo ${i}` } },
        { awaitPermission: `perm_${i}` },
      );
    const run = scriptedAgent({ steps }).execute({ prompt: 'x' });
    let allowed = 0;
    for await (const e of run)
      if (e.type === 'permission.requested') {
        await run.respond(e.id, 'allow');
        allowed++;
      }
    expect((await run.result).status).toBe('completed');
    expect(allowed).toBe(20);
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});

describe('scriptedAgent: declaring the newer fields', () => {
  it('refuses them by default and takes them once declared; steering shows as a log event', async () => {
    expect(() => scriptedAgent({ steps: [] }).execute({ prompt: 'x', effort: 'high' })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FIELD' }),
    );
    const agent = scriptedAgent({
      steps: [{ type: 'message', text: 'working' }, { hang: true }],
      capabilities: { effort: true, mcpServers: true, structuredOutput: 'native', steering: true },
    });
    const run = agent.execute({
      prompt: 'x',
      effort: 'high',
      mcpServers: [{ name: 'm', url: 'https://mcp.example/' }],
      outputSchema: { type: 'object' },
    });
    // Straight after execute: the steer waits for the run function to start and install its handler.
    await run.steer('also this');
    const reading = firstEvent(run);
    await run.cancel();
    const events = await reading.all;
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', text: 'steered: also this' }));
  });
});
