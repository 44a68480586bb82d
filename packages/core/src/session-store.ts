import { ForgeError, ValidationError } from './errors.js';

/**
 * Where a conversation lives once its agent's machine is gone. A session is the provider's own files (Claude
 * Code's project `.jsonl`, Codex's rollout), kept as opaque bytes beside a little metadata; an adapter that
 * declares `sessionPortability` saves them after each turn and restores them before a resume that finds them
 * missing. Implementations: `memorySessionStore()`, `fileSessionStore(dir)`, and `@forge/store`'s SQL one.
 */
export interface SessionStore {
  /** Saves new bytes of a session (whole files, or appends from a byte offset) and returns what is now stored. */
  save(key: SessionKey, save: SessionSave): Promise<SessionInfo>;
  /** The whole session, or undefined when nothing is stored under the key. */
  load(key: SessionKey): Promise<SessionSnapshot | undefined>;
  /** True when something was deleted. */
  delete(key: SessionKey): Promise<boolean>;
  /** Newest first. */
  list(filter?: SessionListFilter): Promise<SessionInfo[]>;
}

export interface SessionKey {
  provider: string;
  sessionId: string;
}

/** One file of a session, by its path relative to the provider's session root (never absolute, never `..`). */
export interface SessionFile {
  path: string;
  data: Uint8Array;
}

/**
 * New bytes of one file. `from` is the byte offset `data` starts at: absent or 0 replaces the file; the stored
 * length appends (append-only JSONL sends only what a turn added). Any other offset is refused with
 * SessionSnapshotGapError, and the adapter sends the whole file instead.
 */
export interface SessionFilePatch extends SessionFile {
  from?: number;
}

export interface SessionSave {
  files: SessionFilePatch[];
  cwd?: string;
  /** A title, or the conversation's first prompt; kept from the first save that has one. */
  title?: string;
}

export interface SessionInfo extends SessionKey {
  cwd?: string;
  title?: string;
  createdAt: string;
  updatedAt: string;
  /** Bytes stored, over all files. */
  size: number;
}

export interface SessionSnapshot extends SessionInfo {
  files: SessionFile[];
}

export interface SessionListFilter {
  provider?: string;
  cwd?: string;
  /** Default 100, at most 1,000. */
  limit?: number;
}

/** What a store keeps of one session at most, unless told otherwise: 64 MiB. */
export const DEFAULT_MAX_SESSION_BYTES = 64 * 1024 * 1024;

export class SessionTooLargeError extends ForgeError {
  constructor(key: SessionKey, size: number, max: number) {
    super(
      'SESSION_TOO_LARGE',
      `session ${key.provider}/${key.sessionId} would hold ${size} bytes, over the store's cap of ${max}`,
      'validation',
      { details: { ...key, size, max } },
    );
  }
}

export class SessionSnapshotGapError extends ForgeError {
  constructor(key: SessionKey, path: string, from: number, stored: number) {
    super(
      'SESSION_SNAPSHOT_GAP',
      `session ${key.provider}/${key.sessionId}: ${path} holds ${stored} bytes, an append from ${from} would leave a gap or overlap; send the whole file`,
      'conflict',
      { details: { ...key, path, from, stored } },
    );
  }
}

const SAFE_NAME = /^[A-Za-z0-9._:@+=-]{1,200}$/;

/** Refuses a key a store could not use as a name (a provider or session id with a slash, NUL, …). */
export function checkSessionKey(key: SessionKey): void {
  for (const [field, value] of [
    ['provider', key.provider],
    ['sessionId', key.sessionId],
  ] as const) {
    if (typeof value !== 'string' || !SAFE_NAME.test(value) || value === '.' || value === '..')
      throw new ValidationError('INVALID_SESSION_KEY', `${field} must be 1-200 of A-Z a-z 0-9 . _ : @ + = -`, [
        { path: field, code: 'INVALID_SESSION_KEY', message: 'not a usable name' },
      ]);
  }
}

/** Refuses a file path that could leave the session's root: absolute, `..`, empty parts, backslashes, NUL. */
export function checkSessionFilePath(path: string): void {
  const parts = path.split('/');
  const bad =
    path.length === 0 ||
    path.length > 1_000 ||
    path.includes('\\') ||
    path.includes('\0') ||
    parts.some((p) => p === '' || p === '.' || p === '..');
  if (bad)
    throw new ValidationError('INVALID_SESSION_FILE', 'a session file path must be relative, without . or .. parts', [
      { path: 'files.path', code: 'INVALID_SESSION_FILE', message: JSON.stringify(path.slice(0, 200)) },
    ]);
}

/** Checks a save before anything is written: key, paths, offsets. */
export function checkSessionSave(key: SessionKey, save: SessionSave): void {
  checkSessionKey(key);
  const seen = new Set<string>();
  for (const file of save.files) {
    checkSessionFilePath(file.path);
    if (seen.has(file.path))
      throw new ValidationError('INVALID_SESSION_FILE', `${file.path} appears twice in one save`);
    seen.add(file.path);
    if (file.from !== undefined && (!Number.isSafeInteger(file.from) || file.from < 0))
      throw new ValidationError('INVALID_SESSION_FILE', `${file.path}: from must be a byte offset`);
  }
}

/** The limit of a list, bounded. */
export function listLimit(filter: SessionListFilter | undefined): number {
  return Math.min(Math.max(1, Math.floor(filter?.limit ?? 100)), 1_000);
}

/**
 * The checks every `SessionStore` runs, in one object, so that a store (memory, files, SQL) names the contract
 * once instead of importing each piece: keys and saves, an append's offset, the size cap and the list limit.
 */
export const sessionChecks = {
  key: checkSessionKey,
  save: checkSessionSave,
  listLimit,
  /** The store's cap: its `maxBytes` option, or 64 MiB. */
  maxBytes: (options: { maxBytes?: number }): number => options.maxBytes ?? DEFAULT_MAX_SESSION_BYTES,
  /** An append (`from`) must start where the stored file ends; `from: 0` rewrites it. */
  appendFrom(key: SessionKey, path: string, from: number | undefined, stored: number): void {
    if (from !== undefined && from !== 0 && from !== stored) throw new SessionSnapshotGapError(key, path, from, stored);
  },
  /** Refuses a session that would hold more than `max` bytes. */
  size(key: SessionKey, size: number, max: number): void {
    if (size > max) throw new SessionTooLargeError(key, size, max);
  },
} as const;
