import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@forge/core';
import { describe, expect, it } from 'vitest';
import {
  ApiKeyStore,
  markAdmins,
  bearerToken,
  hashKey,
  parseApiKeyJson,
  parseApiKeyList,
  readApiKeyFile,
} from './api-keys.js';

describe('API keys', () => {
  it('parses user:key lists and binds each key to its user', () => {
    const store = new ApiKeyStore(parseApiKeyList('alice:alice-key-1, bob:bob-key-22'));
    expect(store.authenticate('alice-key-1')?.userId).toBe('alice');
    expect(store.authenticate('bob-key-22')?.userId).toBe('bob');
    expect(store.authenticate('bob-key-2')).toBeUndefined();
    expect(store.authenticate('')).toBeUndefined();
    expect(store.authenticate(undefined)).toBeUndefined();
  });

  it('keeps only hashes, and keys may contain colons', () => {
    const [rec] = parseApiKeyList('carol:abc:def:ghi');
    expect(rec!.hash.equals(hashKey('abc:def:ghi'))).toBe(true);
    expect(JSON.stringify(rec)).not.toContain('abc:def');
    expect(new ApiKeyStore([rec!]).authenticate('abc:def:ghi')?.keyId).toBe(hashKey('abc:def:ghi').toString('hex'));
  });

  it('reads a JSON file with plaintext or pre-hashed keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-keys-'));
    try {
      const file = join(dir, 'keys.json');
      writeFileSync(
        file,
        JSON.stringify({
          keys: [
            { user: 'dana', key: 'dana-secret' },
            { user: 'eve', sha256: hashKey('eve-secret').toString('hex') },
          ],
        }),
      );
      const store = new ApiKeyStore(readApiKeyFile(file));
      expect(store.authenticate('dana-secret')?.userId).toBe('dana');
      expect(store.authenticate('eve-secret')?.userId).toBe('eve');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad entries with a ValidationError', () => {
    expect(() => parseApiKeyList('nocolon')).toThrow(ValidationError);
    expect(() => parseApiKeyList('../etc:long-enough-key')).toThrow(/user id/);
    expect(() => parseApiKeyList('al:12345678')).not.toThrow();
    expect(() => parseApiKeyList('al:short7')).toThrow(/at least 8/);
    expect(() => parseApiKeyJson('{')).toThrow(/not JSON/);
    expect(() => parseApiKeyJson('[{"user":"x","sha256":"abc"}]')).toThrow(/64 hex/);
    expect(() => new ApiKeyStore(parseApiKeyList('a:same-key-1,b:same-key-1'))).toThrow(/twice/);
  });

  it('reads Bearer tokens', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('marks admin keys: "admin": true in the file, or the user in FORGE_ADMIN_USERS', () => {
    const store = new ApiKeyStore([
      ...parseApiKeyJson('[{"user":"ops","key":"ops-key-123456","admin":true}]'),
      ...markAdmins(parseApiKeyList('alice:alice-key-1234,bob:bob-key-12345'), 'alice'),
    ]);
    expect(store.authenticate('ops-key-123456')?.admin).toBe(true);
    expect(store.authenticate('alice-key-1234')?.admin).toBe(true);
    expect(store.authenticate('bob-key-12345')?.admin).toBe(false);
    expect(() => markAdmins(parseApiKeyList('alice:alice-key-1234'), 'carol')).toThrow(/carol/);
    expect(() => parseApiKeyJson('[{"user":"x","key":"long-enough","admin":"yes"}]')).toThrow(/admin/);
  });

  it('reads a daily spend cap per key, from the key file or FORGE_API_KEYS given as JSON', () => {
    const records = parseApiKeyList(
      JSON.stringify([
        { user: 'alice', key: 'alice-key-1', daily_cost_usd: 5, daily_tokens: 200_000 },
        { user: 'bob', key: 'bob-key-22' },
      ]),
    );
    const store = new ApiKeyStore(records);
    const alice = store.authenticate('alice-key-1')!;
    expect(alice.caps).toEqual({ costUsd: 5, tokens: 200_000 });
    expect(store.capsOf(alice.keyId)).toEqual({ costUsd: 5, tokens: 200_000 });
    expect(store.authenticate('bob-key-22')!.caps).toBeUndefined();
    expect(store.capsOf('00'.repeat(32))).toBeUndefined();
    expect(() => parseApiKeyJson('[{"user":"a","key":"a-key-123","daily_tokens":0}]')).toThrow(/daily_tokens/);
    expect(() => parseApiKeyJson('[{"user":"a","key":"a-key-123","daily_cost_usd":"5"}]')).toThrow(/daily_cost_usd/);
  });
});
