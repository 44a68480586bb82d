import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentRecord } from './credential-store.js';
import { jsonFileCredentialStore } from './json-file-store.js';

const record = (agentId: string, extra: Partial<AgentRecord> = {}): AgentRecord => ({
  agentId,
  name: agentId,
  credentialHash: `hash-${agentId}`,
  enrolledAt: 1,
  ...extra,
});

/**
 * Two store instances on one file stand for two processes (the platform and an admin tool): each
 * has its own cache and its own in-process queue, so only what the file store does on disk keeps
 * their writes apart.
 */
describe('jsonFileCredentialStore under concurrent writers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-json-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no write of another instance, and never serves a stale copy (30 trials)', async () => {
    for (let trial = 0; trial < 30; trial++) {
      const path = join(dir, `agents-${trial}.json`);
      const hub = jsonFileCredentialStore(path);
      const admin = jsonFileCredentialStore(path);
      await hub.put(record('agt_target'));
      await admin.get('agt_target'); // both caches warm
      const busy = Array.from({ length: 20 }, (_, i) =>
        i % 2 ? hub.put(record(`agt_${i}`)) : hub.consumeToken(`tok_${trial}_${i}`, Date.now() + 60_000, Date.now()),
      );
      const revoked = (async () => {
        await new Promise((r) => setTimeout(r, trial % 5));
        const current = (await admin.get('agt_target'))!;
        await admin.put({ ...current, revokedAt: 42 });
      })();
      await Promise.all([...busy, revoked]);
      // The revocation is on disk and every instance sees it — a fresh one, the hub, the admin.
      for (const store of [jsonFileCredentialStore(path), hub, admin]) {
        expect((await store.get('agt_target'))?.revokedAt, `trial ${trial}`).toBe(42);
      }
      // …and so are the hub's own writes.
      expect((await admin.list()).length, `trial ${trial}`).toBe(11);
    }
  });

  it('applies update() atomically across instances: a revocation is not overwritten by a stale read-modify-write', async () => {
    const path = join(dir, 'agents.json');
    const hub = jsonFileCredentialStore(path);
    const admin = jsonFileCredentialStore(path);
    await hub.put(record('agt_target'));
    for (let trial = 0; trial < 20; trial++) {
      await admin.update!('agt_target', (r) => ({ ...r, revokedAt: undefined }) as AgentRecord);
      const writes = Array.from({ length: 10 }, (_, i) =>
        hub.update!('agt_target', (r) => ({ ...r, lastSeen: trial * 100 + i })),
      );
      await Promise.all([...writes, admin.update!('agt_target', (r) => ({ ...r, revokedAt: trial + 1 }))]);
      const final = (await jsonFileCredentialStore(path).get('agt_target'))!;
      expect(final.revokedAt, `trial ${trial}`).toBe(trial + 1);
      expect(final.lastSeen, `trial ${trial}`).toBeGreaterThanOrEqual(trial * 100);
    }
  });

  it('counts a token once across instances', async () => {
    const path = join(dir, 'agents.json');
    const stores = [jsonFileCredentialStore(path), jsonFileCredentialStore(path), jsonFileCredentialStore(path)];
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => stores[i % 3]!.consumeToken('tok_once', Date.now() + 60_000, Date.now())),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
