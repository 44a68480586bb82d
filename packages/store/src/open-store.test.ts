import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from './open-store.js';

describe('PGlite data directory', () => {
  it('keeps data across reopen, refuses a second process, takes over a dead holder’s lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-store-'));
    try {
      const first = await openStore({ dataDir: dir });
      await first.credentials.put({ agentId: 'ra', name: 'n', credentialHash: 'h', enrolledAt: 1 });
      await first.close();
      // A lock left by a process that is gone (kill -9) does not block.
      await writeFile(join(dir, 'forge-store.lock'), '2147483646');
      const second = await openStore({ dataDir: dir });
      expect(second.migrated).toEqual([]);
      expect((await second.credentials.get('ra'))?.name).toBe('n');
      await second.close();
      // A live holder does (pid 1 is always alive).
      await writeFile(join(dir, 'forge-store.lock'), '1');
      await expect(openStore({ dataDir: dir })).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // A new data dir runs initdb in a child process: 20–35 s on the shared 2-core machine under load.
  }, 120_000);
});
