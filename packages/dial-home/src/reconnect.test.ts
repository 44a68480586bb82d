import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectRun, firstEvent, runProblems, sampleScript, scriptedAgent } from '@forge/core/testing';
import { jsonFileCredentialStore } from './json-file-store.js';
import { CuttableProxy } from './test-support/cuttable-proxy.js';
import { Rig } from './test-support/rig.js';
import { spyAgent } from './test-support/spy-agent.js';
import { waitUntil } from './test-support/wait-until.js';

/** "hang" in the prompt: one message, then nothing until cancelled. Otherwise the sample script. */
const agent = () =>
  scriptedAgent({
    steps: (req) =>
      req.prompt.includes('hang') ? [{ type: 'message', text: 'working on it' }, { hang: true }] : sampleScript('done'),
  });

describe('reconnection over loopback', () => {
  let rig: Rig;
  let proxy: CuttableProxy | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await rig?.close();
    await proxy?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    proxy = undefined;
    dir = undefined;
  });

  it('the link drops mid-run: the platform run ends failed with TRANSPORT_BROKEN (no hang), the agent cancels its run, then reconnects', async () => {
    rig = await new Rig().start();
    proxy = await new CuttableProxy(rig.server.port).start();
    const spy = spyAgent(agent());
    const d = rig.dial('cut', spy.agent, { url: proxy.url });
    await d.whenOnline();
    const remote = await rig.registry.get('cut');
    const runs = [remote.execute({ prompt: 'hang one' }), remote.execute({ prompt: 'hang two' })];
    const readers = runs.map((r) => firstEvent(r));
    await Promise.all(readers.map((r) => r.event));
    expect(spy.runs).toHaveLength(2);

    proxy.cut();
    for (const [i, run] of runs.entries()) {
      const result = await run.result;
      expect(result).toMatchObject({
        status: 'failed',
        error: { code: 'TRANSPORT_BROKEN', retryable: true },
        text: 'working on it',
      });
      const events = await readers[i]!.all;
      expect(runProblems(events, run.id)).toEqual([]);
      expect(events.at(-2)).toMatchObject({ type: 'error', code: 'TRANSPORT_BROKEN', retryable: true });
    }
    // The agent side: both runs cancelled locally, not left running for nobody.
    for (const local of spy.runs) expect((await local.result).status).toBe('cancelled');

    await rig.waitFor((a) => a[0]?.status === 'online' && a[0].runsInFlight === 0, 'cut back online');
    await d.whenOnline();
    const { result } = await collectRun((await rig.registry.get('cut')).execute({ prompt: 'and now?' }));
    expect(result).toMatchObject({ status: 'completed', text: 'done' });
  });

  it('the platform restarts mid-session (same port, same store): runs fail, and the agent is back online by itself', async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-dh-restart-'));
    const storePath = join(dir, 'agents.json');
    rig = await new Rig({ credentialStore: jsonFileCredentialStore(storePath) }).start();
    const spy = spyAgent(agent());
    const statuses: string[] = [];
    const d = rig.dial('phoenix', spy.agent, { onStatus: (s) => statuses.push(s) });
    await d.whenOnline();
    const id = d.agentId;
    const run = (await rig.registry.get('phoenix')).execute({ prompt: 'hang on' });
    await firstEvent(run).event;

    // A new process: a fresh store instance reading the same file, on the same port.
    await rig.restartHub(jsonFileCredentialStore(storePath));
    expect(await run.result).toMatchObject({ status: 'failed', error: { code: 'TRANSPORT_BROKEN' } });
    await waitUntil(async () => (await spy.runs[0]!.result).status === 'cancelled', 'the agent-side run cancelled');

    await rig.waitFor((a) => a[0]?.status === 'online', 'phoenix online on the new hub');
    const [info] = await rig.hub.listAgents();
    expect(info).toMatchObject({ id, name: 'phoenix', provider: 'scripted', registered: true });
    expect(d.agentId).toBe(id);
    expect(statuses).toContain('reconnecting');
    const { result } = await collectRun((await rig.registry.get('phoenix')).execute({ prompt: 'are you back?' }));
    expect(result).toMatchObject({ status: 'completed', text: 'done' });
  });

  it('keeps dialling while the platform is down, then connects when it is up again', async () => {
    rig = await new Rig().start();
    const d = rig.dial('patient', agent());
    await d.whenOnline();
    const port = rig.server.port;
    await rig.stopHub();
    await waitUntil(() => d.status === 'reconnecting', 'the agent to notice');
    // Several refused attempts pass (backoff of at most 200 ms here) before the platform is back.
    await new Promise((r) => setTimeout(r, 300));
    expect(d.status).toBe('reconnecting');
    await rig.start(port);
    await d.whenOnline();
    await rig.waitFor((a) => a[0]?.status === 'online', 'patient online');
  });

  it('gives up after backoff.maxAttempts failures in a row', async () => {
    rig = await new Rig().start();
    const d = rig.dial('brief', agent(), { backoff: { initialMs: 5, maxMs: 10, maxAttempts: 2 } });
    await d.whenOnline();
    await rig.stopHub();
    await d.done;
    expect(d.status).toBe('stopped');
    expect(d.lastError).toMatchObject({ code: 'RECONNECT_GAVE_UP' });
  });

  it('a second process with the same credential takes over; the first stops dialling instead of fighting', async () => {
    rig = await new Rig().start();
    const first = rig.dial('twin', agent());
    await first.whenOnline();
    const second = rig.dial('twin', agent(), { enrolmentToken: undefined });
    await second.whenOnline();
    await first.done;
    expect(first.lastError).toMatchObject({ code: 'AGENT_SESSION_REPLACED' });
    expect(second.status).toBe('online');
    const agents = await rig.hub.listAgents();
    expect(agents).toMatchObject([{ name: 'twin', status: 'online', registered: true }]);
    const { result } = await collectRun((await rig.registry.get('twin')).execute({ prompt: 'which one?' }));
    expect(result.status).toBe('completed');
  });
});
