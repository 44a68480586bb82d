import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { collectRun, firstEvent, runProblems, sampleScript, scriptedAgent } from '@forge/core/testing';
import { createAgentHub } from './hub.js';
import { memoryCredentialStore } from './credential-store.js';
import { dialHome } from './dial-home.js';
import { Rig, SECRET } from './test-support/rig.js';
import { spyAgent } from './test-support/spy-agent.js';
import { waitUntil } from './test-support/wait-until.js';

const agent = () =>
  scriptedAgent({ steps: sampleScript('from afar'), capabilities: { models: ['far-model'], reasoning: true } });

describe('the platform-side CodeAgent and the registry', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('is registered under the agent’s name while online, removed when offline, registered again on reconnect', async () => {
    rig = await new Rig().start();
    expect(rig.registry.has('reg')).toBe(false);
    const d = rig.dial('reg', agent());
    await d.whenOnline();
    const registered = await rig.registry.get('reg');
    expect(registered).toBe(rig.hub.agent('reg'));
    expect(registered).toBe(rig.hub.agent(d.agentId!));
    expect(registered.provider).toBe('scripted');
    const caps = await registered.capabilities();
    expect(caps).toMatchObject({ models: ['far-model'], reasoning: true, permissionReplies: true, cancel: true });
    expect((await rig.hub.listAgents())[0]).toMatchObject({
      registered: true,
      capabilities: { models: ['far-model'] },
    });

    await d.stop();
    await waitUntil(() => !rig.registry.has('reg'), 'reg unregistered');
    // The hub still knows it, offline.
    expect(rig.hub.agent('reg')).toBe(registered);

    const again = rig.dial('reg', agent(), { enrolmentToken: undefined });
    await again.whenOnline();
    await waitUntil(() => rig.registry.has('reg'), 'reg registered again');
    expect(await rig.registry.get('reg')).toBe(registered);
    const { events, result } = await collectRun(registered.execute({ prompt: 'hello' }));
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'from afar' });
    expect(events.every((e) => e.provider === 'scripted')).toBe(true);
  });

  it('leaves the host’s own providers alone: a name the host uses is refused (AGENT_NAME_TAKEN)', async () => {
    rig = await new Rig().start();
    const local = scriptedAgent({ steps: sampleScript('local') });
    rig.registry.register('taken', local);
    const d = rig.dial('taken', agent(), { backoff: { initialMs: 5, maxMs: 10, maxAttempts: 2 } });
    await expect(d.whenOnline()).rejects.toMatchObject({
      code: 'RECONNECT_GAVE_UP',
      cause: { code: 'AGENT_NAME_TAKEN' },
    });
    expect(await rig.registry.get('taken')).toBe(local);
  });

  it('does not unregister a name the host took over while the agent was online', async () => {
    rig = await new Rig().start();
    const d = rig.dial('swap', agent());
    await d.whenOnline();
    const replacement = scriptedAgent({ steps: sampleScript('replacement') });
    rig.registry.unregister('swap');
    rig.registry.register('swap', replacement);
    await d.stop();
    await rig.waitFor((a) => a[0]?.status === 'offline', 'swap offline');
    expect(await rig.registry.get('swap')).toBe(replacement);
  });

  it('carries permission replies and cancels both ways', async () => {
    rig = await new Rig().start();
    const spy = spyAgent(
      scriptedAgent({
        steps: [
          { type: 'permission.requested', id: 'perm-1', tool: 'Bash', input: { command: 'ls' } },
          { awaitPermission: 'perm-1' },
          { type: 'message', text: 'listed' },
        ],
      }),
    );
    const d = rig.dial('asker', spy.agent);
    await d.whenOnline();
    const remote = await rig.registry.get('asker');
    const run = remote.execute({ prompt: 'ls please' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    expect(await reading.event).toMatchObject({ type: 'permission.requested', id: 'perm-1', tool: 'Bash' });
    await run.respond('perm-1', 'allow');
    const events = await reading.all;
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({
      callId: 'perm-1',
      output: 'permission allow',
      isError: false,
    });
    expect((await run.result).status).toBe('completed');
    // A reply the agent cannot use comes back as its typed error.
    await expect(run.respond('perm-1', 'deny')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
    const second = remote.execute({ prompt: 'again' });
    await firstEvent(second).event;
    await expect(second.respond('nope', 'allow')).rejects.toThrow(/No permission request nope/);

    // Cancel from the platform: the agent's run is cancelled too.
    expect(await remote.cancel(second.id)).toBe(true);
    expect((await second.result).status).toBe('cancelled');
    expect((await spy.runs[1]!.result).status).toBe('cancelled');
  });

  it('carries question answers to the agent’s run; unknown ids and late answers are refused', async () => {
    rig = await new Rig().start();
    const spy = spyAgent(
      scriptedAgent({
        steps: [
          {
            type: 'question.requested',
            id: 'q-1',
            questions: [
              { question: 'Which?', options: [{ label: 'A' }, { label: 'B' }], multiple: false, custom: false },
            ],
          },
          { awaitQuestion: 'q-1' },
          { type: 'message', text: 'chosen' },
        ],
      }),
    );
    const d = rig.dial('questioner', spy.agent);
    await d.whenOnline();
    const remote = await rig.registry.get('questioner');
    expect((await remote.capabilities()).questions).toBe(true);
    const run = remote.execute({ prompt: 'choose' });
    const reading = firstEvent(run, (e) => e.type === 'question.requested');
    expect(await reading.event).toMatchObject({
      id: 'q-1',
      questions: [{ question: 'Which?', options: [{ label: 'A' }, { label: 'B' }], multiple: false, custom: false }],
    });
    // Checked on the platform side first (the question is known there): an unknown id never crosses.
    await expect(run.answer('q-2', [['A']])).rejects.toMatchObject({ code: 'QUESTION_NOT_FOUND' });
    await run.answer('q-1', [['B']]);
    const events = await reading.all;
    expect(runProblems(events)).toEqual([]);
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ callId: 'q-1', output: { answers: [['B']] } });
    expect((await run.result).status).toBe('completed');
    await expect(run.answer('q-1', [['A']])).rejects.toMatchObject({ code: 'RUN_FINISHED' });
    expect(spy.runs).toHaveLength(1);
  });

  it('delivers a long run in order, and fails one whose reader falls too far behind instead of buffering without end', async () => {
    rig = await new Rig({ maxBufferedEvents: 500 }).start();
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'text.delta' as const, text: `${i} ` }));
    const spy = spyAgent(
      scriptedAgent({
        steps: (req) => (req.prompt === 'flood' ? [...many(5_000), { hang: true as const }] : many(400)),
      }),
    );
    const d = rig.dial('chatty', spy.agent);
    await d.whenOnline();
    const remote = await rig.registry.get('chatty');
    const { events, result } = await collectRun(remote.execute({ prompt: 'steady' }));
    expect(result.status).toBe('completed');
    expect(runProblems(events)).toEqual([]);
    expect(events.filter((e) => e.type === 'text.delta').map((e) => e.type === 'text.delta' && e.text)).toEqual(
      many(400).map((e) => e.text),
    );

    // Nobody reads this one while it floods.
    const flood = remote.execute({ prompt: 'flood' });
    const floodResult = await flood.result;
    expect(floodResult).toMatchObject({ status: 'failed', error: { code: 'EVENT_BUFFER_OVERFLOW' } });
    const { events: kept } = await collectRun(flood);
    expect(runProblems(kept)).toEqual([]);
    expect((await spy.runs[1]!.result).status).toBe('cancelled');
  });

  it('mounts on a host’s own HTTP/2 server beside its other routes', async () => {
    const hub = createAgentHub({ secret: SECRET, credentialStore: memoryCredentialStore() });
    const server = http2.createServer(
      hub.handler({
        fallback: (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('dashboard');
        },
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    rig = await new Rig().start();
    const d = dialHome({
      url,
      name: 'mounted',
      agent: agent(),
      credentialFile: `${rig.dir}/mounted.json`,
      enrolmentToken: hub.issueEnrolmentToken().token,
    });
    try {
      await d.whenOnline();
      const { result } = await collectRun(hub.agent('mounted')!.execute({ prompt: 'hi' }));
      expect(result.status).toBe('completed');
      const client = http2.connect(url);
      const body = await new Promise<string>((resolve, reject) => {
        const req = client.request({ ':path': '/' });
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => resolve(text));
        req.on('error', reject);
      });
      client.close();
      expect(body).toBe('dashboard');
    } finally {
      await d.stop();
      await hub.close();
      await new Promise((r) => server.close(r));
    }
  });
});
