import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { jsonFileCredentialStore } from './json-file-store.js';
import type { HubMessage } from './subscriptions.js';
import { Rig } from './test-support/rig.js';
import { spyAgent } from './test-support/spy-agent.js';
import { waitUntil } from './test-support/wait-until.js';

const agent = () => scriptedAgent({ steps: sampleScript() });

describe('revocation over loopback', () => {
  let rig: Rig;
  let dir: string | undefined;
  afterEach(async () => {
    await rig?.close();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    dir = undefined;
  });

  it('hub.revoke drops the live session at once; the agent stops and its credential is refused from then on', async () => {
    rig = await new Rig().start();
    const token = rig.hub.issueEnrolmentToken().token;
    const d = rig.dial('lena', agent(), { enrolmentToken: token });
    await d.whenOnline();
    const seen: HubMessage[] = [];
    rig.hub.subscribe(`agent.${d.agentId}.*`, (m) => seen.push(m));
    expect(rig.registry.has('lena')).toBe(true);

    expect(await rig.hub.revoke(d.agentId!)).toBe(true);
    await d.done;
    expect(d.status).toBe('stopped');
    expect(d.lastError).toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
    expect(rig.registry.has('lena')).toBe(false);
    expect(await rig.hub.listAgents()).toEqual([]);
    expect(seen.map((m) => m.type)).toContain('revoked');

    // Same credential file, new process: refused at connect.
    const again = rig.dial('lena', agent(), { enrolmentToken: undefined });
    await expect(again.whenOnline()).rejects.toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });

    // The spent token still in its environment: the error names the revocation, not the token.
    const withToken = rig.dial('lena', agent(), { enrolmentToken: token });
    const error = await withToken.whenOnline().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'AGENT_CREDENTIAL_REVOKED',
      message: expect.stringMatching(/revoked.*enrolment token failed too.*already used/s),
    });
  });

  it('a revocation written to the store by another process is enforced at the agent’s next message', async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-dh-store-'));
    const storePath = join(dir, 'agents.json');
    rig = await new Rig({ credentialStore: jsonFileCredentialStore(storePath) }).start();
    const d = rig.dial('mona', agent());
    await d.whenOnline();
    // An admin tool with its own store instance on the same file.
    const admin = jsonFileCredentialStore(storePath);
    // The file store has one writer at a time: let the hub's own update after the Hello land first.
    await waitUntil(async () => (await admin.get(d.agentId!))?.provider === 'scripted', 'the hub to record the Hello');
    const record = (await admin.get(d.agentId!))!;
    await admin.put({ ...record, revokedAt: Date.now() });
    // Nothing else happens: the next heartbeat (every 100 ms here) is the next message.
    await d.done;
    expect(d.lastError).toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
    await waitUntil(() => !rig.registry.has('mona'), 'mona unregistered');
  });

  it('refuses, at its next message, an agent revoked mid-run — the run ends failed on the platform', async () => {
    rig = await new Rig().start();
    const spy = spyAgent(scriptedAgent({ steps: [{ type: 'message', text: 'working' }, { hang: true }] }));
    const d = rig.dial('nora', spy.agent);
    await d.whenOnline();
    const remote = await rig.registry.get('nora');
    const run = remote.execute({ prompt: 'long job' });
    const it = run[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ type: 'message' });
    const record = (await rig.store.get(d.agentId!))!;
    await rig.store.put({ ...record, revokedAt: Date.now() });
    const result = await run.result;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'TRANSPORT_BROKEN' } });
    await d.done;
    expect(d.lastError).toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
    // …and the agent does not go on working for a platform that refused it.
    expect((await spy.runs[0]!.result).status).toBe('cancelled');
  });

  it('ends the session and refuses reconnects whenever a revocation lands, even while the hub is busy (12 trials)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-dh-busy-'));
    for (let trial = 0; trial < 12; trial++) {
      const storePath = join(dir, `agents-${trial}.json`);
      rig = await new Rig({ credentialStore: jsonFileCredentialStore(storePath) }).start();
      // A chatty agent: thousands of events, then it works on.
      const steps = [
        ...Array.from({ length: 3_000 }, (_, i) => ({ type: 'text.delta' as const, text: `w${i} ` })),
        { hang: true as const },
      ];
      const d = rig.dial(`busy-${trial}`, scriptedAgent({ steps }));
      await d.whenOnline();
      const run = (await rig.registry.get(`busy-${trial}`)).execute({ prompt: 'talk' });
      const it = run[Symbol.asyncIterator]();
      await it.next();
      // Meanwhile the hub writes to its store: other agents enrol and come online.
      const others = Array.from({ length: 3 }, (_, i) =>
        rig.dial(`other-${trial}-${i}`, scriptedAgent({ steps: sampleScript() })),
      );
      const othersOnline = Promise.all(others.map((o) => o.whenOnline()));
      if (trial % 2 === 0) {
        // Another process (an admin tool) writes the revocation to the file.
        const admin = jsonFileCredentialStore(storePath);
        await new Promise((r) => setTimeout(r, trial % 4));
        await admin.update!(d.agentId!, (r) => ({ ...r, revokedAt: Date.now() }));
      } else {
        expect(await rig.hub.revoke(d.agentId!)).toBe(true);
      }
      await othersOnline;
      await d.done;
      expect(d.lastError, `trial ${trial}`).toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
      expect((await run.result).status, `trial ${trial}`).toBe('failed');
      expect((await jsonFileCredentialStore(storePath).get(d.agentId!))?.revokedAt, `trial ${trial}`).toBeDefined();
      const again = rig.dial(`busy-${trial}`, agent(), { enrolmentToken: undefined });
      await expect(again.whenOnline(), `trial ${trial}`).rejects.toMatchObject({ code: 'AGENT_CREDENTIAL_REVOKED' });
      expect(rig.registry.has(`busy-${trial}`)).toBe(false);
      await rig.close();
    }
  }, 120_000);
});
