import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { collectRun, sampleScript, scriptedAgent } from '@forge/core/testing';
import { createAgentHub, type AgentHub } from './hub.js';
import { memoryCredentialStore } from './credential-store.js';
import { dialHome, type DialHome } from './dial-home.js';
import { Rig, SECRET } from './test-support/rig.js';

// A self-signed certificate for localhost / 127.0.0.1 (valid until 2126).
const fixture = (name: string) => readFileSync(join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', name));
const tls = { key: fixture('tls-key.pem'), cert: fixture('tls-cert.pem') };

describe('dial home over TLS', () => {
  let hub: AgentHub | undefined;
  let rig: Rig | undefined;
  const links: DialHome[] = [];
  afterEach(async () => {
    for (const l of links.splice(0)) await l.stop();
    await hub?.close();
    await rig?.close();
  });

  it('enrols and runs over https with the platform’s CA; refuses an untrusted certificate', async () => {
    rig = await new Rig().start(); // only for its temporary directory
    hub = createAgentHub({ secret: SECRET, credentialStore: memoryCredentialStore() });
    const server = await hub.listen({ tls });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const common = {
      url: server.url,
      agent: scriptedAgent({ steps: sampleScript('secure') }),
      backoff: { initialMs: 5, maxMs: 10, maxAttempts: 2 },
    };

    const trusting = dialHome({
      ...common,
      name: 'tls-ok',
      credentialFile: join(rig.dir, 'ok.json'),
      enrolmentToken: hub.issueEnrolmentToken().token,
      tls: { ca: tls.cert },
    });
    links.push(trusting);
    await trusting.whenOnline();
    const { result } = await collectRun(hub.agent('tls-ok')!.execute({ prompt: 'hi' }));
    expect(result).toMatchObject({ status: 'completed', text: 'secure' });

    const wary = dialHome({
      ...common,
      name: 'tls-no',
      credentialFile: join(rig.dir, 'no.json'),
      enrolmentToken: hub.issueEnrolmentToken().token,
    });
    links.push(wary);
    await expect(wary.whenOnline()).rejects.toMatchObject({
      code: 'RECONNECT_GAVE_UP',
      cause: { code: 'AGENT_TLS_ERROR' },
    });
    expect((await hub.listAgents()).map((a) => a.name)).toEqual(['tls-ok']);
  });
});
