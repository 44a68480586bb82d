import { afterEach, describe, expect, it } from 'vitest';
import { scriptedAgent } from '@forge/core/testing';
import { type CredentialStore, memoryCredentialStore } from './credential-store.js';
import { Rig } from './test-support/rig.js';

/** A memory store that counts its reads: the hub's credential checks are `get`s. */
function countingStore(): { store: CredentialStore; gets: () => number } {
  const inner = memoryCredentialStore();
  let gets = 0;
  const store: CredentialStore = Object.create(inner);
  store.get = (agentId) => {
    gets++;
    return inner.get(agentId);
  };
  return { store, gets: () => gets };
}

const EVENTS = 300;
// A pause after each event, so that each crosses the link as its own message (a burst is batched).
const chatty = () =>
  scriptedAgent({
    steps: Array.from({ length: EVENTS }, (_, i) => [
      { type: 'text.delta' as const, text: `w${i} ` },
      { delayMs: 1 },
    ]).flat(),
  });

describe('the hub checks an open session’s credential at most once per credentialCheckMs', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('a run of 300 events, each its own message, costs a handful of store reads, not one per event', async () => {
    const { store, gets } = countingStore();
    rig = await new Rig({ credentialStore: store, credentialCheckMs: 60_000 }).start();
    const d = rig.dial('quiet', chatty());
    await d.whenOnline();
    const before = gets();
    const run = (await rig.registry.get('quiet')).execute({ prompt: 'talk' });
    let events = 0;
    for await (const _ of run) events++;
    expect((await run.result).status).toBe('completed');
    expect(events).toBeGreaterThan(EVENTS);
    // Before the bound, each of the agent's messages was a `get`: 300 or more here.
    expect(gets() - before).toBeLessThan(20);
  });

  it('credentialCheckMs: 0 checks every message, as before', async () => {
    const { store, gets } = countingStore();
    rig = await new Rig({ credentialStore: store, credentialCheckMs: 0 }).start();
    const d = rig.dial('strict', chatty());
    await d.whenOnline();
    const before = gets();
    const run = (await rig.registry.get('strict')).execute({ prompt: 'talk' });
    for await (const _ of run) {
    }
    expect((await run.result).status).toBe('completed');
    expect(gets() - before).toBeGreaterThanOrEqual(EVENTS / 2);
  });
});
