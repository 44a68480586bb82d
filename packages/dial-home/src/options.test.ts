import { AsyncQueue } from '@forge/core/internal';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryCredentialStore } from './credential-store.js';
import { dialHome } from './dial-home.js';
import {
  AgentHubService,
  AttachRequestSchema,
  HelloSchema,
  type AttachRequest,
} from './gen/forge/dialhome/v1/dialhome_pb.js';
import { createAgentHub, type AgentHub } from './hub.js';
import { Rig, SECRET } from './test-support/rig.js';

const agent = () => scriptedAgent({ steps: sampleScript() });

describe('options and their defaults', () => {
  let hub: AgentHub | undefined;
  let rig: Rig | undefined;
  afterEach(async () => {
    await hub?.close();
    await rig?.close();
    hub = undefined;
    rig = undefined;
  });

  it('refuses a weak secret and impossible heartbeats with typed errors', () => {
    expect(() => createAgentHub({ secret: 'short', credentialStore: memoryCredentialStore() })).toThrow(
      expect.objectContaining({ code: 'WEAK_SECRET' }),
    );
    expect(() => createAgentHub({ secret: SECRET, credentialStore: memoryCredentialStore(), heartbeatMs: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_HEARTBEAT' }),
    );
    expect(() =>
      createAgentHub({ secret: SECRET, credentialStore: memoryCredentialStore(), missedHeartbeats: 0 }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_HEARTBEAT' }));
  });

  it('dialHome refuses a bad url, name or backoff before dialling', () => {
    const base = { url: 'http://127.0.0.1:1', name: 'ok', agent: agent(), credentialFile: '/tmp/never-written.json' };
    expect(() => dialHome({ ...base, url: 'ftp://x' })).toThrow(expect.objectContaining({ code: 'INVALID_URL' }));
    expect(() => dialHome({ ...base, name: 'no spaces' })).toThrow(
      expect.objectContaining({ code: 'INVALID_AGENT_NAME' }),
    );
    expect(() => dialHome({ ...base, backoff: { initialMs: -1 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_BACKOFF' }),
    );
  });

  it('tells agents to beat every 30 s and allows 3 misses by default', async () => {
    hub = createAgentHub({ secret: SECRET, credentialStore: memoryCredentialStore() });
    const server = await hub.listen();
    const sessions = new Http2SessionManager(server.url);
    try {
      const client = createClient(
        AgentHubService,
        createGrpcTransport({ baseUrl: server.url, sessionManager: sessions }),
      );
      const { agentId, credential } = await client.enroll({
        enrolmentToken: hub.issueEnrolmentToken().token,
        name: 'defaults',
      });
      const out = new AsyncQueue<AttachRequest>();
      out.push(
        create(AttachRequestSchema, {
          subject: `agent.${agentId}.hello`,
          body: {
            case: 'hello',
            value: create(HelloSchema, { name: 'defaults', provider: 'p', version: '1' }),
          },
        }),
      );
      const first = await client
        .attach(out, { headers: { authorization: `Bearer ${credential}` } })
        [Symbol.asyncIterator]()
        .next();
      expect(first.value).toMatchObject({
        body: { case: 'welcome', value: { heartbeatMs: 30_000, missedHeartbeats: 3 } },
      });
      out.end();
    } finally {
      sessions.abort();
    }
  });

  it('stop() is idempotent, and whenOnline() after it rejects with the reason', async () => {
    rig = await new Rig().start();
    const d = rig.dial('stopper', agent());
    await d.whenOnline();
    await Promise.all([d.stop(), d.stop()]);
    await d.stop();
    expect(d.status).toBe('stopped');
    await expect(d.whenOnline()).rejects.toMatchObject({ code: expect.any(String) });
    // Stopped while still connecting (nothing listens there): ends at once, nothing left running.
    const nowhere = dialHome({
      url: 'http://127.0.0.1:9',
      name: 'nowhere',
      agent: agent(),
      credentialFile: join(rig.dir, 'n.json'),
      enrolmentToken: 'fdh1.x.y',
    });
    await nowhere.stop();
    expect(nowhere.status).toBe('stopped');
  });
});
