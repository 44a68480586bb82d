import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type SessionFile,
  type SessionInfo,
  type SessionKey,
  type SessionStore,
  sessionChecks,
} from './session-store.js';

/** The suffix of a whole file being written, before it is renamed over the stored one. */
const PARTIAL = '.forge-partial';

/**
 * A SessionStore in a directory: `<dir>/<provider>/<session id>/info.json` and the session's files under
 * `files/`, each at its own relative path. Appends go to the end of the stored file; whole files are written
 * beside and renamed over, so a crash never leaves half a file. One writer per session at a time (a session is
 * saved by the one agent running it); for several hosts, use a database-backed store.
 */
export function fileSessionStore(dir: string, options: { maxBytes?: number; now?: () => Date } = {}): SessionStore {
  const max = sessionChecks.maxBytes(options);
  const now = options.now ?? (() => new Date());
  // Keys are checked to be plain names (sessionChecks.key), so they are safe as directory names.
  const home = (key: SessionKey) => join(dir, key.provider, key.sessionId);
  const infoPath = (key: SessionKey) => join(home(key), 'info.json');

  async function readInfo(key: SessionKey): Promise<SessionInfo | undefined> {
    try {
      return JSON.parse(await readFile(infoPath(key), 'utf8')) as SessionInfo;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.${Date.now()}${PARTIAL}`;
    await writeFile(temp, data);
    await rename(temp, path);
  }

  return {
    async save(key, save) {
      sessionChecks.save(key, save);
      const current = await readInfo(key);
      const sizes = new Map<string, number>();
      for (const patch of save.files) sizes.set(patch.path, await sizeOf(join(home(key), 'files', patch.path)));
      let size = current?.size ?? 0;
      for (const patch of save.files) {
        const stored = sizes.get(patch.path)!;
        sessionChecks.appendFrom(key, patch.path, patch.from, stored);
        size += (patch.from ?? 0) === 0 ? patch.data.length - stored : patch.data.length;
      }
      sessionChecks.size(key, size, max);
      for (const patch of save.files) {
        const path = join(home(key), 'files', patch.path);
        if ((patch.from ?? 0) === 0) await writeAtomically(path, patch.data);
        else await appendFile(path, patch.data);
      }
      const at = now().toISOString();
      const cwd = save.cwd ?? current?.cwd;
      const title = current?.title ?? save.title;
      const info: SessionInfo = {
        provider: key.provider,
        sessionId: key.sessionId,
        createdAt: current?.createdAt ?? at,
        updatedAt: at,
        size,
        ...(cwd !== undefined ? { cwd } : {}),
        ...(title !== undefined ? { title } : {}),
      };
      await writeAtomically(infoPath(key), JSON.stringify(info));
      return info;
    },
    async load(key) {
      sessionChecks.key(key);
      const info = await readInfo(key);
      if (!info) return undefined;
      const root = join(home(key), 'files');
      const files: SessionFile[] = [];
      for (const path of await filesUnder(root))
        files.push({ path, data: new Uint8Array(await readFile(join(root, path))) });
      return { ...info, files };
    },
    async delete(key) {
      sessionChecks.key(key);
      const existed = (await readInfo(key)) !== undefined;
      await rm(home(key), { recursive: true, force: true });
      return existed;
    },
    async list(filter) {
      const infos: SessionInfo[] = [];
      const providers = filter?.provider !== undefined ? [filter.provider] : await names(dir);
      for (const provider of providers) {
        for (const sessionId of await names(join(dir, provider))) {
          const info = await readInfo({ provider, sessionId }).catch(() => undefined);
          if (info && (filter?.cwd === undefined || info.cwd === filter.cwd)) infos.push(info);
        }
      }
      return infos.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).slice(0, sessionChecks.listLimit(filter));
    },
  };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

async function names(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Every regular file below root, as paths relative to it (temporary files of an interrupted write left out). */
async function filesUnder(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(join(root, prefix), { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw e;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await filesUnder(root, rel)));
    else if (entry.isFile() && !entry.name.endsWith(PARTIAL)) out.push(rel);
  }
  return out;
}
