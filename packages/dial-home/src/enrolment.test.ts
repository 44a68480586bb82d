import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { readCredentialFile } from './credential-file.js';
import { createAgentHub } from './hub.js';
import { memoryCredentialStore } from './credential-store.js';
import { Rig } from './test-support/rig.js';

const agent = () => scriptedAgent({ steps: sampleScript() });

describe('enrolment over loopback', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('enrolment → credential file 0600 → a later start reconnects with the credential alone', async () => {
    rig = await new Rig().start();
    const first = rig.dial('bob', agent());
    await first.whenOnline();
    const file = join(rig.dir, 'bob.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = (await readCredentialFile(file))!;
    expect(stored.credential).toMatch(/^fdhc1\.agt_[A-Za-z0-9]+\.[A-Za-z0-9_-]{43}$/);
    await first.stop();
    await rig.waitFor((a) => a[0]?.status === 'offline', 'bob offline');

    // No token this time: the stored credential is all it needs.
    const again = rig.dial('bob', agent(), { enrolmentToken: undefined });
    await again.whenOnline();
    expect(again.agentId).toBe(stored.agentId);
    const agents = await rig.hub.listAgents();
    expect(agents).toHaveLength(1);
    expect(agents[0]).toMatchObject({ id: stored.agentId, status: 'online' });
  });

  it('the platform keeps only a hash of the credential', async () => {
    rig = await new Rig().start();
    const d = rig.dial('carol', agent());
    await d.whenOnline();
    const stored = (await readCredentialFile(join(rig.dir, 'carol.json')))!;
    const record = (await rig.store.get(stored.agentId))!;
    expect(JSON.stringify(record)).not.toContain(stored.credential.split('.')[2]);
    expect(record.credentialHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a reused enrolment token', async () => {
    rig = await new Rig().start();
    const token = rig.hub.issueEnrolmentToken().token;
    const first = rig.dial('dave', agent(), { enrolmentToken: token });
    await first.whenOnline();
    const second = rig.dial('erin', agent(), { enrolmentToken: token });
    await expect(second.whenOnline()).rejects.toMatchObject({ code: 'ENROLMENT_TOKEN_USED' });
    await second.done;
    expect(second.status).toBe('stopped');
    expect((await rig.hub.listAgents()).map((a) => a.name)).toEqual(['dave']);
  });

  it('refuses an expired enrolment token (default lifetime one hour)', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    rig = await new Rig({ clock: { now: () => now } }).start();
    const issued = rig.hub.issueEnrolmentToken();
    expect(issued.expiresAt - now).toBe(3_600_000);
    now += 3_600_000;
    const d = rig.dial('frank', agent(), { enrolmentToken: issued.token });
    await expect(d.whenOnline()).rejects.toMatchObject({ code: 'ENROLMENT_TOKEN_EXPIRED' });
    expect(await rig.hub.listAgents()).toEqual([]);
  });

  it('refuses a token signed with another secret, and one bound to another name', async () => {
    rig = await new Rig().start();
    const other = createAgentHub({
      secret: 'another-secret-another-secret-another-secret',
      credentialStore: memoryCredentialStore(),
    });
    const forged = rig.dial('gina', agent(), { enrolmentToken: other.issueEnrolmentToken().token });
    await expect(forged.whenOnline()).rejects.toMatchObject({ code: 'ENROLMENT_TOKEN_INVALID' });
    await other.close();

    const bound = rig.dial('hank', agent(), { enrolmentToken: rig.hub.issueEnrolmentToken({ name: 'ivy' }).token });
    await expect(bound.whenOnline()).rejects.toMatchObject({ code: 'ENROLMENT_NAME_MISMATCH' });
    const right = rig.dial('ivy', agent(), { enrolmentToken: rig.hub.issueEnrolmentToken({ name: 'ivy' }).token });
    await right.whenOnline();
  });

  it('refuses a token the platform withdrew before it was used', async () => {
    rig = await new Rig().start();
    const issued = rig.hub.issueEnrolmentToken();
    expect(await rig.hub.revokeEnrolmentToken(issued)).toBe(true);
    expect(await rig.hub.revokeEnrolmentToken(issued.token)).toBe(false);
    expect(await rig.hub.revokeEnrolmentToken('fdh1.not.valid')).toBe(false);
    const d = rig.dial('olga', agent(), { enrolmentToken: issued.token });
    await expect(d.whenOnline()).rejects.toMatchObject({ code: 'ENROLMENT_TOKEN_USED' });
  });

  it('stops with a clear error when there is neither a credential nor a token', async () => {
    rig = await new Rig().start();
    const d = rig.dial('jack', agent(), { enrolmentToken: undefined });
    await expect(d.whenOnline()).rejects.toMatchObject({ code: 'AGENT_NOT_ENROLLED' });
  });

  it('keeps retrying enrolment while the platform is unreachable, then gives up at maxAttempts', async () => {
    rig = await new Rig().start();
    const token = rig.hub.issueEnrolmentToken().token;
    const url = rig.server.url;
    await rig.server.close();
    const d = rig.dial('kate', agent(), {
      url,
      enrolmentToken: token,
      backoff: { initialMs: 5, maxMs: 10, maxAttempts: 3 },
    });
    await expect(d.whenOnline()).rejects.toMatchObject({ code: 'RECONNECT_GAVE_UP' });
    expect(d.lastError?.cause).toMatchObject({ code: 'AGENT_UNAVAILABLE' });
  });
});
