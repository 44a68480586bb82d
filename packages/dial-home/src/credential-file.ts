import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ForgeError, type Logger } from '@forge/core';
import { DialHomeCodes } from './errors.js';

/** What an agent keeps after enrolling. The file is the agent's identity: guard it like an SSH key. */
export interface StoredCredential {
  version: 1;
  agentId: string;
  credential: string;
  /** The platform it enrolled with. */
  url: string;
  name: string;
  /** Epoch ms. */
  enrolledAt: number;
}

const fileError = (path: string, what: string, cause: unknown) =>
  new ForgeError(
    DialHomeCodes.CREDENTIAL_FILE,
    `Could not ${what} the credential file ${path}: ${(cause as Error).message ?? cause}`,
    'internal',
    {
      cause,
      details: { path },
    },
  );

/** The stored credential, or undefined when there is no file yet. */
export async function readCredentialFile(path: string, logger?: Logger): Promise<StoredCredential | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileError(path, 'read', error);
  }
  try {
    const mode = (await stat(path)).mode & 0o777;
    if (mode & 0o077) {
      // Readable by others: tighten it rather than refuse (a mounted secret may be 0644 and read-only).
      logger?.warn('the credential file is readable by other users; setting it to 0600', {
        path,
        mode: mode.toString(8),
      });
      await chmod(path, 0o600).catch(() => logger?.warn('could not chmod the credential file', { path }));
    }
  } catch {
    // stat after a successful read only fails in a race; the content is what matters.
  }
  let parsed: StoredCredential;
  try {
    parsed = JSON.parse(text) as StoredCredential;
  } catch (error) {
    throw fileError(path, 'parse', error);
  }
  if (parsed.version !== 1 || typeof parsed.credential !== 'string' || typeof parsed.agentId !== 'string') {
    throw fileError(path, 'use', new Error('it is not a dial-home credential file (version 1)'));
  }
  return parsed;
}

/** Writes atomically with mode 0600, in a directory created 0700 if missing. */
export async function writeCredentialFile(path: string, value: StoredCredential): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Created 0600 from the first byte (never world-readable, whatever the umask), then renamed over.
    await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw fileError(path, 'write', error);
  }
}
