import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCredentialFile, writeCredentialFile, type StoredCredential } from './credential-file.js';
import { jsonFileCredentialStore } from './json-file-store.js';

const stored: StoredCredential = {
  version: 1,
  agentId: 'agt_x',
  credential: 'fdhc1.agt_x.secret',
  url: 'http://h',
  name: 'x',
  enrolledAt: 1,
};

describe('credential file and JSON store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-dh-files-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes 0600 in a 0700 directory it creates, and reads it back', async () => {
    const file = join(dir, 'deep', 'er', 'agent.json');
    await writeCredentialFile(file, stored);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'deep', 'er'))).mode & 0o777).toBe(0o700);
    expect(await readCredentialFile(file)).toEqual(stored);
    expect(await readCredentialFile(join(dir, 'missing.json'))).toBeUndefined();
  });

  it('tightens a file readable by others, and refuses one that is not a credential file', async () => {
    const file = join(dir, 'agent.json');
    await writeFile(file, JSON.stringify(stored), { mode: 0o644 });
    await chmod(file, 0o644);
    expect(await readCredentialFile(file)).toEqual(stored);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await writeFile(file, '{"hello":1}');
    await expect(readCredentialFile(file)).rejects.toMatchObject({ code: 'CREDENTIAL_FILE_ERROR' });
    await writeFile(file, 'not json');
    await expect(readCredentialFile(file)).rejects.toMatchObject({ code: 'CREDENTIAL_FILE_ERROR' });
  });

  it('the JSON store survives a restart, keeps tokens single use across instances, and is 0600', async () => {
    const path = join(dir, 'agents.json');
    const a = jsonFileCredentialStore(path);
    await a.put({ agentId: 'agt_1', name: 'one', credentialHash: 'h'.repeat(64), enrolledAt: 5 });
    expect(await a.consumeToken('tok', 1_000, 0)).toBe(true);
    const b = jsonFileCredentialStore(path);
    expect(await b.get('agt_1')).toMatchObject({ name: 'one' });
    expect(await b.consumeToken('tok', 1_000, 10)).toBe(false);
    // Past its expiry a spent token id may be forgotten (the token is refused as expired anyway).
    expect(await b.consumeToken('tok', 1_000, 1_000)).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).not.toContain('fdhc1');
    await writeFile(path, 'garbage');
    await expect(jsonFileCredentialStore(path).list()).rejects.toMatchObject({ code: 'CREDENTIAL_STORE_CORRUPT' });
  });
});
