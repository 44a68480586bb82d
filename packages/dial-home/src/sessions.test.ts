import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';
import { memorySessionStore } from '@forge/core';
import { AsyncQueue } from '@forge/core/internal';
import { collectRun, runProblems } from '@forge/core/testing';
import { linkedSessionStore, proto } from '@forge/transport-grpc';
import { afterEach, describe, expect, it } from 'vitest';
import { journalAgent } from '../../transport-grpc/src/test-support/journal-agent.js';
import {
  AgentHubService,
  AttachRequestSchema,
  HelloSchema,
  type AttachRequest,
} from './gen/forge/dialhome/v1/dialhome_pb.js';
import { Rig } from './test-support/rig.js';

const text = (data: Uint8Array) => Buffer.from(data).toString('utf8');

describe('sessions of an agent that dialled home are kept in the platform’s store', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('each turn is saved over the Attach stream; the same agent on a machine without its files resumes from it', async () => {
    const platform = memorySessionStore();
    rig = await new Rig({ sessionStore: platform }).start();
    const storeA = linkedSessionStore();
    const machineA = rig.dial('laptop', journalAgent(storeA), { sessionStore: storeA });
    await machineA.whenOnline();
    const agent = rig.hub.agent('laptop')!;
    const first = await collectRun(agent.execute({ prompt: 'remember PAPAYA' }));
    expect(runProblems(first.events)).toEqual([]);
    const sessionId = first.result.sessionId!;
    expect(text((await platform.load({ provider: 'journal', sessionId }))!.files[0]!.data)).toBe('remember PAPAYA\n');
    await machineA.stop();
    await rig.waitFor((a) => a[0]?.status === 'offline', 'laptop offline');

    // Another machine (an empty disk) takes the agent's credential and dials in.
    const storeB = linkedSessionStore();
    const machineB = rig.dial('laptop', journalAgent(storeB), { sessionStore: storeB, enrolmentToken: undefined });
    await machineB.whenOnline();
    const second = await collectRun(agent.execute({ prompt: 'what was it?', sessionId }));
    expect(runProblems(second.events)).toEqual([]);
    expect(second.result).toMatchObject({ status: 'completed', text: 'remember PAPAYA\nwhat was it?\n' });
  });

  it('a run reaches only its own sessions over the link', async () => {
    // Failed first with the grants' checks removed: the agent read the other conversation.
    const platform = memorySessionStore();
    await platform.save(
      { provider: 'journal', sessionId: 'victim' },
      { files: [{ path: 'log', data: Buffer.from('SECRET\n') }] },
    );
    rig = await new Rig({ sessionStore: platform }).start();
    const store = linkedSessionStore();
    await rig.dial('laptop', journalAgent(store), { sessionStore: store }).whenOnline();
    const stolen = await rig.hub.agent('laptop')!.execute({ prompt: 'steal:victim' }).result;
    expect(stolen).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_GRANTED' } });
    const overwritten = await rig.hub.agent('laptop')!.execute({ prompt: 'overwrite:victim' }).result;
    expect(overwritten).toMatchObject({ status: 'failed', error: { code: 'SESSION_NOT_GRANTED' } });
    expect(text((await platform.load({ provider: 'journal', sessionId: 'victim' }))!.files[0]!.data)).toBe('SECRET\n');
  });

  it('a hub with a store refuses runs on an agent program older than session calls, saying so', async () => {
    rig = await new Rig({ sessionStore: memorySessionStore() }).start();
    const sessions = new Http2SessionManager(rig.server.url);
    const client = createClient(
      AgentHubService,
      createGrpcTransport({ baseUrl: rig.server.url, sessionManager: sessions }),
    );
    const { agentId, credential } = await client.enroll({
      enrolmentToken: rig.hub.issueEnrolmentToken().token,
      name: 'old',
    });
    const out = new AsyncQueue<AttachRequest>();
    out.push(
      create(AttachRequestSchema, {
        subject: `agent.${agentId}.hello`,
        body: {
          case: 'hello',
          value: create(HelloSchema, {
            name: 'old',
            provider: 'hand',
            version: '0.1',
            capabilities: create(proto.AgentCapabilitiesSchema, { protocolRevision: 1 }),
          }),
        },
      }),
    );
    const responses = client
      .attach(out, { headers: { authorization: `Bearer ${credential}` } })
      [Symbol.asyncIterator]();
    try {
      await responses.next();
      expect(() => rig.hub.agent('old')!.execute({ prompt: 'hello' })).toThrow(
        expect.objectContaining({
          code: 'SESSION_STORE_UNSUPPORTED',
          message: expect.stringMatching(/revision 1, needs 2/),
        }),
      );
    } finally {
      out.end();
      sessions.abort();
    }
  });
});
