import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from './test-support/rig.js';
import { waitUntil } from './test-support/wait-until.js';

// A stock gRPC client that knows nothing of Forge: it loads the public .proto files itself.
const protoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'proto');
const definition = protoLoader.loadSync(['forge/dialhome/v1/dialhome.proto'], {
  includeDirs: [protoRoot],
  longs: Number,
  enums: Number,
  defaults: false,
  oneofs: true,
});
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const loaded = grpc.loadPackageDefinition(definition) as any;

const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;

type Refusal = { code: number; details: string; metadata: Record<string, unknown> };
const refusalOf = (e: grpc.ServiceError): Refusal => ({
  code: e.code,
  details: e.details,
  // Binary (-bin) entries as text, so a test can read what they say.
  metadata: Object.fromEntries(
    Object.entries(e.metadata.getMap()).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('latin1') : v]),
  ),
});

/**
 * Opens Attach and sends a Hello; settles with the status error. The hub refuses before it reads
 * (no Welcome, no message at all), so any message is a failure.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function attachRefusal(client: any, authorization: string | undefined): Promise<Refusal> {
  const md = new grpc.Metadata();
  if (authorization !== undefined) md.set('authorization', authorization);
  const call = client.attach(md);
  const settled = new Promise<Refusal>((resolve, reject) => {
    call.on('data', (m: unknown) => reject(new Error(`the hub answered: ${JSON.stringify(m)}`)));
    call.on('error', (e: grpc.ServiceError) => resolve(refusalOf(e)));
    call.on('end', () => reject(new Error('the call ended without an error')));
  });
  call.write({ subject: 'agent.x.hello', hello: { name: 'stock', provider: 'stock', version: '0' } });
  return settled;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function enroll(client: any, enrolmentToken: string, name = 'stock'): Promise<{ agentId: string; credential: string }> {
  return new Promise((resolve, reject) =>
    client.enroll(
      { enrolmentToken, name },
      (e: grpc.ServiceError | null, r: { agentId: string; credential: string }) => (e ? reject(e) : resolve(r)),
    ),
  );
}

describe('the hub refuses a stock gRPC client (@grpc/grpc-js) with a proper status, never INTERNAL', () => {
  let rig: Rig;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let client: any;

  beforeAll(async () => {
    rig = await new Rig().start();
    client = new loaded.forge.dialhome.v1.AgentHubService(
      `127.0.0.1:${rig.server.port}`,
      grpc.credentials.createInsecure(),
    );
  });
  afterAll(async () => {
    client?.close();
    await rig?.close();
  });

  for (const [what, token] of [
    ['no enrolment token', ''],
    ['a malformed enrolment token', 'not-a-token'],
    ['a forged enrolment token', 'fdh1.eyJ4IjoxfQ.AAAA'],
  ] as const) {
    it(`unary Enroll with ${what}: UNAUTHENTICATED`, async () => {
      const error = await enroll(client, token).then(
        () => undefined,
        (e: grpc.ServiceError) => refusalOf(e),
      );
      expect(error).toMatchObject({ code: UNAUTHENTICATED, details: expect.stringMatching(/enrolment token/i) });
    });
  }

  it('bidi Attach without a credential: UNAUTHENTICATED', async () => {
    expect(await attachRefusal(client, undefined)).toMatchObject({
      code: UNAUTHENTICATED,
      // connect-es percent-encodes ':' in grpc-message, which grpc-js (decodeURI) leaves as it is.
      details: expect.stringMatching(/^Attach needs `authorization(:|%3A) Bearer <agent credential>`$/),
    });
  });

  it('bidi Attach with a wrong credential: UNAUTHENTICATED, and the refusal says nothing of the agent', async () => {
    const { agentId, credential } = await enroll(client, rig.hub.issueEnrolmentToken().token, 'wrong-cred');
    // The right agent id, the wrong secret: told apart from an unknown agent by nothing.
    const wrongSecret = `${credential.slice(0, -4)}${credential.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    const unknownAgent = credential.replace(agentId, `${agentId.slice(0, -2)}zz`);
    const answers = [];
    for (const presented of [`Bearer ${wrongSecret}`, `Bearer ${unknownAgent}`, 'Bearer garbage', 'Basic abc']) {
      answers.push(await attachRefusal(client, presented));
    }
    for (const a of answers) expect(a).toMatchObject({ code: UNAUTHENTICATED });
    const [secret, unknown, garbage, basic] = answers as [Refusal, Refusal, Refusal, Refusal];
    // The agent id in the details is the one the caller presented; the rest is word for word the same.
    const scrub = (r: Refusal, id: string) => JSON.parse(JSON.stringify(r).replaceAll(id, '<id>'));
    expect(scrub(secret, agentId)).toEqual(scrub(unknown, `${agentId.slice(0, -2)}zz`));
    expect(garbage).toEqual(basic);
    expect(Object.keys(secret.metadata).sort()).toEqual([
      'forge-error-category',
      'forge-error-code',
      'forge-error-details-bin',
      'forge-error-retryable',
    ]);
    const said = JSON.stringify(answers);
    const record = (await rig.store.get(agentId))!;
    for (const secretThing of [credential.split('.').at(-1)!, record.credentialHash, 'wrong-cred']) {
      expect(said).not.toContain(secretThing);
    }
  });

  it('bidi Attach of a revoked agent: PERMISSION_DENIED, with the same framing', async () => {
    const { agentId, credential } = await enroll(client, rig.hub.issueEnrolmentToken().token, 'revoked');
    expect(await rig.hub.revoke(agentId)).toBe(true);
    expect(await attachRefusal(client, `Bearer ${credential}`)).toMatchObject({
      code: PERMISSION_DENIED,
      details: `The credential of agent ${agentId} was revoked`,
    });
  });
});

describe('the hub ends a live Attach of a stock gRPC client with a status it can read', () => {
  let rig: Rig;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let client: any;
  beforeAll(async () => {
    rig = await new Rig().start();
    client = new loaded.forge.dialhome.v1.AgentHubService(
      `127.0.0.1:${rig.server.port}`,
      grpc.credentials.createInsecure(),
    );
  });
  afterAll(async () => {
    client?.close();
    await rig?.close();
  });

  it('revoked mid-session: the Welcome, then PERMISSION_DENIED in the trailers', async () => {
    const { agentId, credential } = await enroll(client, rig.hub.issueEnrolmentToken().token, 'mid');
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${credential}`);
    const call = client.attach(md);
    const got: Array<{ body?: string }> = [];
    const ended = new Promise<Refusal>((resolve, reject) => {
      call.on('data', (m: { body?: string }) => {
        got.push(m);
        if (m.body === 'welcome') {
          void rig.hub
            .revoke(agentId)
            .then(() => call.write({ subject: `agent.${agentId}.heartbeat`, heartbeat: { time: 1, runsInFlight: 0 } }));
        }
      });
      call.on('error', (e: grpc.ServiceError) => resolve(refusalOf(e)));
      call.on('end', () => reject(new Error('the call ended without an error')));
    });
    call.write({ subject: `agent.${agentId}.hello`, hello: { name: 'mid', provider: 'stock', version: '0' } });
    const refusal = await ended;
    expect(got[0]).toMatchObject({ body: 'welcome' });
    expect(refusal).toMatchObject({
      code: PERMISSION_DENIED,
      metadata: { 'forge-error-code': 'AGENT_CREDENTIAL_REVOKED' },
    });
  });
});

describe('a stock gRPC client as the agent: the newer fields, events and steering in dialhome.proto', () => {
  let rig: Rig;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let client: any;
  beforeAll(async () => {
    rig = await new Rig().start();
    client = new loaded.forge.dialhome.v1.AgentHubService(
      `127.0.0.1:${rig.server.port}`,
      grpc.credentials.createInsecure(),
    );
  });
  afterAll(async () => {
    client?.close();
    await rig?.close();
  });

  it('gets the request’s newer fields as proto fields, sends first-class events and an output, and acknowledges a steer', async () => {
    const { agentId, credential } = await enroll(client, rig.hub.issueEnrolmentToken().token, 'polyglot');
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${credential}`);
    const call = client.attach(md);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const got: { request?: any; steer?: { subject: string; text: string } } = {};
    const runSubject = (runId: string, kind: string) => `agent.${agentId}.run.${runId}.${kind}`;
    const event = (runId: string, seq: number, body: Record<string, unknown>) => ({
      runId,
      seq,
      time: 1_700_000_000_000 + seq,
      provider: 'polyglot',
      ...body,
    });
    const welcomed = new Promise<void>((resolve, reject) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      call.on('data', (m: any) => {
        if (m.body === 'welcome') resolve();
        if (m.body !== 'command') return;
        const c = m.command;
        if (c.command === 'execute') {
          const runId = c.execute.runId as string;
          got.request = c.execute.request;
          call.write({
            subject: runSubject(runId, 'event'),
            events: {
              events: [
                event(runId, 1, { sessionStarted: { sessionId: 'ses_p' } }),
                event(runId, 2, {
                  parentToolCallId: 'task_9',
                  fileChanged: { path: 'main.go', change: 'modified', diff: '@@ -1 +1 @@' },
                }),
              ],
            },
          });
        }
        if (c.command === 'steer') {
          const runId = c.steer.runId as string;
          got.steer = { subject: m.subject, text: c.steer.text };
          call.write({ subject: runSubject(runId, 'ack'), ack: { commandId: c.commandId } });
          call.write({
            subject: runSubject(runId, 'event'),
            events: {
              events: [
                event(runId, 3, {
                  runCompleted: {
                    result: {
                      status: 1,
                      text: '{"ok":true}',
                      outputJson: '{"ok":true}',
                      filesChanged: { files: [{ path: 'main.go', change: 'modified' }] },
                    },
                  },
                }),
              ],
            },
          });
        }
      });
      call.on('error', reject);
    });
    call.write({
      subject: `agent.${agentId}.hello`,
      hello: {
        name: 'polyglot',
        provider: 'polyglot',
        version: '0',
        capabilities: {
          cancel: true,
          steering: true,
          mcpServers: true,
          effort: true,
          structuredOutput: 'native',
          // Announces that this program reads the newer request fields; without it they are refused (below).
          protocolRevision: 1,
        },
      },
    });
    await welcomed;
    await rig.waitFor((a) => a.some((x) => x.name === 'polyglot' && x.status === 'online'), 'polyglot online');
    const remote = rig.hub.agent('polyglot')!;
    expect(await remote.capabilities()).toMatchObject({ steering: true, mcpServers: true, structuredOutput: 'native' });
    const run = remote.execute(
      {
        prompt: 'hi',
        effort: 'low',
        mcpServers: [{ name: 'tickets', command: 'node', args: ['t.mjs'] }],
        outputSchema: { type: 'object' },
      },
      { runId: 'run-poly' },
    );
    const events = [];
    for await (const e of run) {
      events.push(e);
      if (e.type === 'file.changed') await run.steer('and the tests');
    }
    call.end();
    expect(got.request).toMatchObject({
      prompt: 'hi',
      effort: 'low',
      mcpServers: [{ name: 'tickets', command: 'node', args: ['t.mjs'] }],
      outputSchemaJson: '{"type":"object"}',
    });
    expect(got.steer).toEqual({ subject: `agent.${agentId}.run.run-poly.steer`, text: 'and the tests' });
    expect(events.map((e) => e.type)).toEqual(['session.started', 'file.changed', 'run.completed']);
    expect(events[1]).toMatchObject({ path: 'main.go', change: 'modified', parentToolCallId: 'task_9' });
    expect(await run.result).toMatchObject({
      status: 'completed',
      output: { ok: true },
      filesChanged: [{ path: 'main.go', change: 'modified' }],
    });
  });
});

describe('an agent program older than the newer request fields (no protocol_revision in its Hello)', () => {
  let rig: Rig;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let client: any;
  beforeAll(async () => {
    rig = await new Rig().start();
    client = new loaded.forge.dialhome.v1.AgentHubService(
      `127.0.0.1:${rig.server.port}`,
      grpc.credentials.createInsecure(),
    );
  });
  afterAll(async () => {
    client?.close();
    await rig?.close();
  });

  it('is refused those fields before any run (it would drop them unread) and steering, and still gets plain requests', async () => {
    const { agentId, credential } = await enroll(client, rig.hub.issueEnrolmentToken().token, 'elder');
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${credential}`);
    const call = client.attach(md);
    const commands: string[] = [];
    const welcomed = new Promise<void>((resolve, reject) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      call.on('data', (m: any) => {
        if (m.body === 'welcome') resolve();
        if (m.body === 'command') commands.push(m.command.command);
      });
      call.on('error', reject);
    });
    // Even claiming the capability does not make an older program read the field.
    call.write({
      subject: `agent.${agentId}.hello`,
      hello: { name: 'elder', provider: 'elder', version: '0', capabilities: { cancel: true, effort: true } },
    });
    await welcomed;
    await rig.waitFor((a) => a.some((x) => x.name === 'elder' && x.status === 'online'), 'elder online');
    const remote = rig.hub.agent('elder')!;
    let refused: unknown;
    try {
      remote.execute({ prompt: 'hi', effort: 'high', budget: { maxTurns: 2 } });
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'UNSUPPORTED_FIELD', fields: ['effort', 'budget'] });
    const plain = remote.execute({ prompt: 'hi' }, { runId: 'run-elder' });
    await waitUntil(() => commands.includes('execute'), 'the execute command');
    expect(commands).toEqual(['execute']);
    await expect(plain.steer('left')).rejects.toMatchObject({ code: 'UNSUPPORTED', category: 'unsupported' });
    expect(commands).toEqual(['execute']);
    await plain.cancel();
    call.end();
  });
});
