import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ForgeError } from '@forge/core';
import type { AgentRecord, CredentialStore } from './credential-store.js';

interface FileShape {
  version: 1;
  agents: Record<string, AgentRecord>;
  /** Spent enrolment token ids → their expiry (epoch ms). */
  spentTokens: Record<string, number>;
}

export interface JsonFileStoreOptions {
  /** How long a write waits for another writer's lock before failing. Default 10 s. */
  lockTimeoutMs?: number;
  /** A lock file older than this is taken for a crashed writer's and removed. Default 30 s. */
  staleLockMs?: number;
}

const empty = (): FileShape => ({ version: 1, agents: {}, spentTokens: {} });

/** Identifies one version of the file: every write is a new file (a new inode) renamed into place. */
const stampOf = (s: { ino: number; size: number; mtimeMs: number }) => `${s.ino}:${s.size}:${s.mtimeMs}`;

/**
 * A store in one JSON file (mode 0600; it holds credential hashes, not credentials), safe for
 * several processes on one machine (the platform and an admin tool):
 * - every write is a read-modify-write under a lock file (`<path>.lock`, created exclusively), on
 *   a fresh read of the file, so no process writes back a copy that misses another's revocation;
 * - the new version is written to a temporary file, stamped (inode, size, mtime) before it is
 *   renamed into place, so the cache can never be labelled with another writer's version;
 * - reads check the stamp of the file on disk and read it again when it changed, so a revocation
 *   written by another process takes effect at the agent's next message.
 * Several machines need a database-backed CredentialStore.
 */
export function jsonFileCredentialStore(path: string, options: JsonFileStoreOptions = {}): CredentialStore {
  const lockPath = `${path}.lock`;
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const staleLockMs = options.staleLockMs ?? 30_000;
  let cache: FileShape | undefined;
  let cacheStamp = '';
  let queue: Promise<unknown> = Promise.resolve();

  const corrupt = (error: unknown) =>
    new ForgeError(
      'CREDENTIAL_STORE_CORRUPT',
      `The credential store ${path} cannot be read: ${(error as Error).message}`,
      'internal',
      { cause: error },
    );

  const parse = (text: string): FileShape => {
    try {
      const parsed = JSON.parse(text) as FileShape;
      if (parsed.version !== 1 || typeof parsed.agents !== 'object') throw new Error('unknown layout');
      return { version: 1, agents: parsed.agents ?? {}, spentTokens: parsed.spentTokens ?? {} };
    } catch (error) {
      throw corrupt(error);
    }
  };

  /** The file as it is now: stamp and content read through one handle, so they belong together. */
  const load = async (): Promise<FileShape> => {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      cache = empty();
      cacheStamp = 'absent';
      return cache;
    }
    try {
      const stamp = stampOf(await handle.stat());
      if (cache && stamp === cacheStamp) return cache;
      const data = parse(await handle.readFile('utf8'));
      cache = data;
      cacheStamp = stamp;
      return data;
    } finally {
      await handle.close();
    }
  };

  /** Cheap freshness check for reads: a stat, and a read only when the file changed. */
  const current = async (): Promise<FileShape> => {
    if (cache) {
      const s = await stat(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if ((s ? stampOf(s) : 'absent') === cacheStamp) return cache;
    }
    return load();
  };

  const lock = async (): Promise<void> => {
    const started = Date.now();
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const held = await stat(lockPath).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > staleLockMs) {
        // A writer that died holding the lock.
        await unlink(lockPath).catch(() => {});
        continue;
      }
      if (Date.now() - started > lockTimeoutMs) {
        throw new ForgeError(
          'CREDENTIAL_STORE_LOCKED',
          `The credential store ${path} stayed locked for ${lockTimeoutMs} ms (${lockPath})`,
          'internal',
          { retryable: true },
        );
      }
      await sleep(1 + Math.random() * 4);
    }
  };

  const save = async (data: FileShape): Promise<void> => {
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(tmp, 'wx', 0o600);
      let stamp: string;
      try {
        await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`);
        await handle.sync();
        // Stamped before the rename, which keeps inode, size and mtime: after it, the name may
        // already point at another writer's newer file.
        stamp = stampOf(await handle.stat());
      } finally {
        await handle.close();
      }
      await rename(tmp, path);
      cache = data;
      cacheStamp = stamp;
    } catch (error) {
      await unlink(tmp).catch(() => {});
      throw error;
    }
  };

  /** Read-modify-write on a fresh read, one at a time in this process and under the lock across processes. */
  const update = <T>(change: (data: FileShape) => T): Promise<T> => {
    const next = queue.then(async () => {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await lock();
      try {
        const data = structuredClone(await load());
        const out = change(data);
        await save(data);
        return out;
      } finally {
        await unlink(lockPath).catch(() => {});
      }
    });
    queue = next.catch(() => {});
    return next;
  };

  return {
    async get(agentId) {
      const r = (await current()).agents[agentId];
      return r && { ...r };
    },
    put: (record) =>
      update((data) => {
        data.agents[record.agentId] = { ...record };
      }),
    update: (agentId, change) =>
      update((data) => {
        const found = data.agents[agentId];
        if (!found) return undefined;
        const changed = change({ ...found });
        data.agents[agentId] = { ...changed };
        return { ...changed };
      }),
    async list() {
      return Object.values((await current()).agents).map((r) => ({ ...r }));
    },
    consumeToken: (tokenId, expiresAt, now) =>
      update((data) => {
        for (const [id, exp] of Object.entries(data.spentTokens)) if (exp <= now) delete data.spentTokens[id];
        if (tokenId in data.spentTokens) return false;
        data.spentTokens[tokenId] = expiresAt;
        return true;
      }),
  };
}
