import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ForgeError } from '@forge/core';
import type { AgentRecord, CredentialStore } from './credential-store.js';

interface FileShape {
  version: 1;
  agents: Record<string, AgentRecord>;
  /** Spent enrolment token ids → their expiry (epoch ms). */
  spentTokens: Record<string, number>;
}

const empty = (): FileShape => ({ version: 1, agents: {}, spentTokens: {} });

/**
 * A store in one JSON file (mode 0600; it holds credential hashes, not credentials). Writes are
 * atomic (temporary file, then rename) and serialised within the process. The file is read again
 * whenever it has changed on disk, so a revocation written by another process (an admin tool)
 * takes effect at the agent's next message. Meant for one platform process writing; several
 * writers need a database-backed CredentialStore.
 */
export function jsonFileCredentialStore(path: string): CredentialStore {
  let cache: FileShape | undefined;
  let cacheStamp = '';
  let queue: Promise<unknown> = Promise.resolve();

  const stampOf = async (): Promise<string> => {
    try {
      const s = await stat(path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
      throw error;
    }
  };

  const load = async (): Promise<FileShape> => {
    const stamp = await stampOf();
    if (cache && stamp === cacheStamp) return cache;
    if (stamp === 'absent') {
      cache = empty();
    } else {
      const text = await readFile(path, 'utf8');
      try {
        const parsed = JSON.parse(text) as FileShape;
        if (parsed.version !== 1 || typeof parsed.agents !== 'object') throw new Error('unknown layout');
        cache = { version: 1, agents: parsed.agents ?? {}, spentTokens: parsed.spentTokens ?? {} };
      } catch (error) {
        throw new ForgeError(
          'CREDENTIAL_STORE_CORRUPT',
          `The credential store ${path} cannot be read: ${(error as Error).message}`,
          'internal',
          {
            cause: error,
          },
        );
      }
    }
    cacheStamp = stamp;
    return cache;
  };

  const save = async (data: FileShape): Promise<void> => {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      await rename(tmp, path);
    } catch (error) {
      await unlink(tmp).catch(() => {});
      throw error;
    }
    cache = data;
    cacheStamp = await stampOf();
  };

  /** Read-modify-write, one at a time. */
  const update = <T>(change: (data: FileShape) => T): Promise<T> => {
    const next = queue.then(async () => {
      const data = structuredClone(await load());
      const out = change(data);
      await save(data);
      return out;
    });
    queue = next.catch(() => {});
    return next;
  };

  return {
    async get(agentId) {
      const r = (await load()).agents[agentId];
      return r && { ...r };
    },
    put: (record) =>
      update((data) => {
        data.agents[record.agentId] = { ...record };
      }),
    async list() {
      return Object.values((await load()).agents).map((r) => ({ ...r }));
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
