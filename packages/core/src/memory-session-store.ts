import { sessionChecks, type SessionInfo, type SessionKey, type SessionStore } from './session-store.js';

interface Stored {
  info: SessionInfo;
  files: Map<string, Uint8Array>;
}

/** A SessionStore in this process's memory: for tests, and for agents that share one process. */
export function memorySessionStore(options: { maxBytes?: number; now?: () => Date } = {}): SessionStore {
  const max = sessionChecks.maxBytes(options);
  const now = options.now ?? (() => new Date());
  const sessions = new Map<string, Stored>();
  const id = (key: SessionKey) => `${key.provider}\n${key.sessionId}`;

  return {
    async save(key, save) {
      sessionChecks.save(key, save);
      const current = sessions.get(id(key));
      const files = new Map(current?.files);
      for (const patch of save.files) {
        const stored = files.get(patch.path) ?? new Uint8Array();
        sessionChecks.appendFrom(key, patch.path, patch.from, stored.length);
        files.set(patch.path, (patch.from ?? 0) === 0 ? patch.data.slice() : concat(stored, patch.data));
      }
      const size = [...files.values()].reduce((n, d) => n + d.length, 0);
      sessionChecks.size(key, size, max);
      const at = now().toISOString();
      const info: SessionInfo = {
        provider: key.provider,
        sessionId: key.sessionId,
        createdAt: current?.info.createdAt ?? at,
        updatedAt: at,
        size,
        ...((save.cwd ?? current?.info.cwd) !== undefined ? { cwd: save.cwd ?? current?.info.cwd } : {}),
        ...((current?.info.title ?? save.title) !== undefined ? { title: current?.info.title ?? save.title } : {}),
      };
      sessions.set(id(key), { info, files });
      return { ...info };
    },
    async load(key) {
      sessionChecks.key(key);
      const stored = sessions.get(id(key));
      if (!stored) return undefined;
      return { ...stored.info, files: [...stored.files].map(([path, data]) => ({ path, data: data.slice() })) };
    },
    async delete(key) {
      sessionChecks.key(key);
      return sessions.delete(id(key));
    },
    async list(filter) {
      return [...sessions.values()]
        .map((s) => s.info)
        .filter(
          (i) =>
            (filter?.provider === undefined || i.provider === filter.provider) &&
            (filter?.cwd === undefined || i.cwd === filter.cwd),
        )
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .slice(0, sessionChecks.listLimit(filter))
        .map((i) => ({ ...i }));
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
