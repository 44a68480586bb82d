import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectRun, sampleScript, scriptedAgent } from '@forge/core/testing';
import { Rig } from './test-support/rig.js';
import { readCredentialFile } from './credential-file.js';

describe('dial home over loopback HTTP/2', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('enrols, stores the credential 0600, goes online and runs through the registry', async () => {
    rig = await new Rig().start();
    const d = rig.dial('alice', scriptedAgent({ steps: sampleScript('hi there') }));
    await d.whenOnline();
    const file = join(rig.dir, 'alice.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = await readCredentialFile(file);
    expect(stored?.agentId).toBe(d.agentId);
    const agents = await rig.hub.listAgents();
    expect(agents).toMatchObject([{ id: d.agentId, name: 'alice', provider: 'scripted', status: 'online' }]);
    const agent = await rig.registry.get('alice');
    const { events, result } = await collectRun(agent.execute({ prompt: 'hello' }));
    expect(result.status).toBe('completed');
    expect(result.text).toBe('hi there');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });
});
