import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { fileSessionStore } from './file-session-store.js';
import { memorySessionStore } from './memory-session-store.js';
import { sessionStoreContract } from './testing/session-store-contract.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

sessionStoreContract('memorySessionStore', { make: ({ maxBytes }) => memorySessionStore({ maxBytes }) });
sessionStoreContract('fileSessionStore', {
  async make({ maxBytes }) {
    const dir = await mkdtemp(join(tmpdir(), 'forge-session-store-'));
    dirs.push(dir);
    return fileSessionStore(dir, { maxBytes });
  },
});
