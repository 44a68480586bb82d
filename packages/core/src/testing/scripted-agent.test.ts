import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptStep } from './scripted-agent.js';
import { scriptedAgent } from './scripted-agent.js';

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
