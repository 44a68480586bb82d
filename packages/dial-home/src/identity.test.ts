import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectRun, sampleScript, scriptedAgent } from '@forge/core/testing';
import { Rig } from './test-support/rig.js';

const agent = (text: string) => scriptedAgent({ steps: sampleScript(text) });

/** The name an agent is enrolled under is part of its identity: its credential holds that name only. */
describe('dial-home identity is bound to the credential', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('refuses a Hello announcing another name than the enrolled one, and keeps the record as it was', async () => {
    rig = await new Rig().start();
    const alice = rig.dial('alice-laptop', agent('alice'));
    await alice.whenOnline();
    const agentId = alice.agentId!;
    await alice.stop();

    // alice's credential, announcing bob's name.
    await copyFile(join(rig.dir, 'alice-laptop.json'), join(rig.dir, 'bob-laptop.json'));
    const spoof = rig.dial('bob-laptop', agent('spoof'), { enrolmentToken: undefined });
    await expect(spoof.whenOnline()).rejects.toMatchObject({ code: 'AGENT_IDENTITY_MISMATCH' });
    expect(spoof.status).toBe('stopped');
    expect(rig.registry.has('bob-laptop')).toBe(false);
    expect((await rig.store.get(agentId))?.name).toBe('alice-laptop');
    expect((await rig.hub.listAgents()).map((a) => a.name)).toEqual(['alice-laptop']);
  });

  it('does not let a second enrolled agent take over a name, online or offline', async () => {
    rig = await new Rig().start();
    const alice = rig.dial('alice-laptop', agent('alice'));
    await alice.whenOnline();
    const mallory = rig.dial('mallory', agent('mallory'));
    await mallory.whenOnline();
    await mallory.stop();
    await copyFile(join(rig.dir, 'mallory.json'), join(rig.dir, 'alice-laptop-2.json'));

    // While alice is online, and again after she went offline: mallory's credential announcing alice's name.
    for (const phase of ['online', 'offline']) {
      if (phase === 'offline') await alice.stop();
      const takeover = rig.dial('alice-laptop', agent('mallory'), {
        enrolmentToken: undefined,
        credentialFile: join(rig.dir, 'alice-laptop-2.json'),
      });
      await expect(takeover.whenOnline()).rejects.toMatchObject({ code: 'AGENT_IDENTITY_MISMATCH' });
      expect(rig.registry.has('alice-laptop')).toBe(phase === 'online');
    }

    // Enrolling anew under a name that an unrevoked agent holds is refused too.
    const squatter = rig.dial('alice-laptop', agent('mallory'), { credentialFile: join(rig.dir, 'squat.json') });
    await expect(squatter.whenOnline()).rejects.toMatchObject({ code: 'AGENT_NAME_TAKEN' });

    // alice comes back and her runs reach her machine.
    const back = rig.dial('alice-laptop', agent('alice'), { enrolmentToken: undefined });
    await back.whenOnline();
    const { result } = await collectRun((await rig.registry.get('alice-laptop')).execute({ prompt: 'who?' }));
    expect(result.text).toContain('alice');
    const names = (await rig.hub.listAgents()).map((a) => a.name).sort();
    expect(names).toEqual(['alice-laptop', 'mallory']);
  });
});
