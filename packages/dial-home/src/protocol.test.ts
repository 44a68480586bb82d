import { AsyncQueue } from '@forge/core/internal';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';
import { collectRun } from '@forge/core/testing';
import { eventToProto, proto } from '@forge/transport-grpc';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentHubService,
  AttachRequestSchema,
  HelloSchema,
  type AttachRequest,
} from './gen/forge/dialhome/v1/dialhome_pb.js';
import { Rig } from './test-support/rig.js';

/** A client written against dialhome.proto alone, as an agent in another language would be. */
function rawClient(url: string) {
  const sessions = new Http2SessionManager(url);
  const client = createClient(AgentHubService, createGrpcTransport({ baseUrl: url, sessionManager: sessions }));
  return { client, close: () => sessions.abort() };
}

const msg = (subject: string, body: AttachRequest['body']) => create(AttachRequestSchema, { subject, body });

describe('the Attach protocol, spoken by hand', () => {
  let rig: Rig;
  const closers: Array<() => void> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    await rig?.close();
  });

  it('a hand-written agent enrols, says Hello, gets the Welcome and an execute, and answers with events', async () => {
    rig = await new Rig().start();
    const { client, close } = rawClient(rig.server.url);
    closers.push(close);
    const { agentId, credential } = await client.enroll({
      enrolmentToken: rig.hub.issueEnrolmentToken().token,
      name: 'handmade',
    });
    const out = new AsyncQueue<AttachRequest>();
    out.push(
      msg(`agent.${agentId}.hello`, {
        case: 'hello',
        value: create(HelloSchema, { name: 'handmade', provider: 'hand', version: '9.9' }),
      }),
    );
    const responses = client
      .attach(out, { headers: { authorization: `Bearer ${credential}` } })
      [Symbol.asyncIterator]();
    const welcome = (await responses.next()).value;
    expect(welcome).toMatchObject({
      subject: `agent.${agentId}.welcome`,
      body: { case: 'welcome', value: { agentId, heartbeatMs: 100, missedHeartbeats: 10 } },
    });

    const run = rig.hub.agent('handmade')!.execute({ prompt: 'by hand' }, { runId: 'r1' });
    const command = (await responses.next()).value;
    expect(command).toMatchObject({
      subject: `agent.${agentId}.run.r1.execute`,
      body: { case: 'command', value: { command: { case: 'execute', value: { runId: 'r1' } } } },
    });
    const env = { runId: 'r1', provider: 'hand', time: Date.now() };
    out.push(
      msg(`agent.${agentId}.run.r1.event`, {
        case: 'events',
        value: create(proto.EventBatchSchema, {
          events: [
            eventToProto({ ...env, seq: 1, type: 'message', text: 'made by hand' }),
            eventToProto({
              ...env,
              seq: 2,
              type: 'run.completed',
              result: {
                status: 'completed',
                text: 'made by hand',
                usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0 },
                durationMs: 1,
                turns: 1,
              },
            }),
          ],
        }),
      }),
    );
    const { events, result } = await collectRun(run);
    expect(events.map((e) => e.type)).toEqual(['message', 'run.completed']);
    expect(result).toMatchObject({ status: 'completed', text: 'made by hand', usage: { outputTokens: 2 } });
    expect((await rig.hub.listAgents())[0]).toMatchObject({
      name: 'handmade',
      provider: 'hand',
      version: '9.9',
      status: 'online',
    });
    out.end();
    await rig.waitFor((a) => a[0]?.status === 'offline', 'handmade offline');
  });

  it('refuses a missing credential, a first message that is not a Hello, and a subject of another agent', async () => {
    rig = await new Rig().start();
    const { client, close } = rawClient(rig.server.url);
    closers.push(close);
    const attach = async (headers: Record<string, string>, ...messages: AttachRequest[]) => {
      const out = new AsyncQueue<AttachRequest>();
      for (const m of messages) out.push(m);
      try {
        for await (const _ of client.attach(out, { headers })) {
          // Read until the hub ends the stream.
        }
        return undefined;
      } catch (error) {
        return ConnectError.from(error);
      } finally {
        out.close();
      }
    };
    expect((await attach({}))?.code).toBe(Code.Unauthenticated);
    expect((await attach({ authorization: 'Bearer fdhc1.agt_nobody.secret' }))?.code).toBe(Code.Unauthenticated);

    const { agentId, credential } = await client.enroll({
      enrolmentToken: rig.hub.issueEnrolmentToken().token,
      name: 'strict',
    });
    const auth = { authorization: `Bearer ${credential}` };
    const beat = msg(`agent.${agentId}.heartbeat`, {
      case: 'heartbeat',
      value: { $typeName: 'forge.dialhome.v1.Heartbeat', time: 1, runsInFlight: 0 },
    });
    const noHello = await attach(auth, beat);
    expect(noHello).toMatchObject({ code: Code.FailedPrecondition });
    expect(noHello?.metadata.get('forge-error-code')).toBe('DIAL_HOME_PROTOCOL_ERROR');

    const hello = msg(`agent.${agentId}.hello`, {
      case: 'hello',
      value: create(HelloSchema, { name: 'strict', provider: 'hand', version: '1' }),
    });
    const spoof = msg('agent.agt_someone_else.heartbeat', {
      case: 'heartbeat',
      value: { $typeName: 'forge.dialhome.v1.Heartbeat', time: 1, runsInFlight: 0 },
    });
    const spoofed = await attach(auth, hello, spoof);
    expect(spoofed).toMatchObject({ code: Code.InvalidArgument });
    expect(spoofed?.rawMessage).toMatch(/not one of agent/);
  });
});
