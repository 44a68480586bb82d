import { describe, expect, it } from 'vitest';
import type { SessionStore } from '../session-store.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

export interface SessionStoreContractOptions {
  /** A fresh, empty store whose cap is `maxBytes`. */
  make(options: { maxBytes: number }): SessionStore | Promise<SessionStore>;
}

/**
 * What every SessionStore must do, as vitest cases: core's memory and file stores run it, and so does
 * `@forge/store`'s SQL store; a host's own store can run it too.
 */
export function sessionStoreContract(name: string, options: SessionStoreContractOptions): void {
  describe(`SessionStore contract: ${name}`, () => {
    const key = { provider: 'claude-code', sessionId: 'ses-1' };

    it('saves whole files, appends from the stored length, and loads them back', async () => {
      const store = await options.make({ maxBytes: 1_000 });
      const first = await store.save(key, {
        files: [{ path: 'projects/-work/ses-1.jsonl', data: bytes('{"turn":1}\n') }],
        cwd: '/work',
        title: 'fix the bug',
      });
      expect(first).toMatchObject({ ...key, cwd: '/work', title: 'fix the bug', size: 11 });
      const second = await store.save(key, {
        files: [{ path: 'projects/-work/ses-1.jsonl', data: bytes('{"turn":2}\n'), from: 11 }],
        title: 'a later title is not kept',
      });
      expect(second).toMatchObject({ size: 22, title: 'fix the bug', cwd: '/work', createdAt: first.createdAt });
      const loaded = await store.load(key);
      expect(loaded?.files.map((f) => [f.path, text(f.data)])).toEqual([
        ['projects/-work/ses-1.jsonl', '{"turn":1}\n{"turn":2}\n'],
      ]);
      expect(loaded).toMatchObject({ size: 22, cwd: '/work' });
      // A whole file again replaces it.
      await store.save(key, { files: [{ path: 'projects/-work/ses-1.jsonl', data: bytes('x') }] });
      expect(text((await store.load(key))!.files[0]!.data)).toBe('x');
      expect((await store.load(key))?.size).toBe(1);
    });

    it('refuses an append that would leave a gap, and changes nothing', async () => {
      const store = await options.make({ maxBytes: 1_000 });
      await store.save(key, { files: [{ path: 'a.jsonl', data: bytes('abc') }] });
      await expect(store.save(key, { files: [{ path: 'a.jsonl', data: bytes('d'), from: 5 }] })).rejects.toMatchObject({
        code: 'SESSION_SNAPSHOT_GAP',
      });
      expect(text((await store.load(key))!.files[0]!.data)).toBe('abc');
    });

    it('refuses a session over its cap clearly, and keeps what it had', async () => {
      const store = await options.make({ maxBytes: 10 });
      await store.save(key, { files: [{ path: 'a.jsonl', data: bytes('12345') }] });
      await expect(
        store.save(key, { files: [{ path: 'a.jsonl', data: bytes('678901'), from: 5 }] }),
      ).rejects.toMatchObject({ code: 'SESSION_TOO_LARGE', details: expect.objectContaining({ size: 11, max: 10 }) });
      expect((await store.load(key))?.size).toBe(5);
    });

    it('refuses paths and keys that could leave the session (attack: ../, absolute, NUL, slash in an id)', async () => {
      const store = await options.make({ maxBytes: 1_000 });
      for (const path of ['../escape', '/etc/passwd', 'a/../../b', 'a\\b', 'a\0b', '', 'a//b', './a'])
        await expect(store.save(key, { files: [{ path, data: bytes('x') }] })).rejects.toMatchObject({
          code: 'INVALID_SESSION_FILE',
        });
      for (const sessionId of ['../x', 'a/b', '..', 'a\0b', ''])
        await expect(store.save({ provider: 'p', sessionId }, { files: [] })).rejects.toMatchObject({
          code: 'INVALID_SESSION_KEY',
        });
      expect(await store.list()).toEqual([]);
    });

    it('lists newest first, by provider and cwd, and deletes', async () => {
      const store = await options.make({ maxBytes: 1_000 });
      const save = async (provider: string, sessionId: string, cwd: string) => {
        await store.save({ provider, sessionId }, { files: [{ path: 'f', data: bytes(sessionId) }], cwd });
        // Stores stamp times themselves; a short pause keeps the order clear on a fast machine.
        await new Promise((r) => setTimeout(r, 5));
      };
      await save('claude-code', 's1', '/a');
      await save('codex', 's2', '/a');
      await save('claude-code', 's3', '/b');
      expect((await store.list()).map((i) => i.sessionId)).toEqual(['s3', 's2', 's1']);
      expect((await store.list({ provider: 'claude-code' })).map((i) => i.sessionId)).toEqual(['s3', 's1']);
      expect((await store.list({ cwd: '/a' })).map((i) => i.sessionId)).toEqual(['s2', 's1']);
      expect((await store.list({ limit: 1 })).map((i) => i.sessionId)).toEqual(['s3']);
      expect(await store.delete({ provider: 'codex', sessionId: 's2' })).toBe(true);
      expect(await store.delete({ provider: 'codex', sessionId: 's2' })).toBe(false);
      expect(await store.load({ provider: 'codex', sessionId: 's2' })).toBeUndefined();
    });

    it('keeps bytes exactly (binary, NUL, invalid UTF-8)', async () => {
      const store = await options.make({ maxBytes: 1_000 });
      const data = new Uint8Array([0, 255, 0xc3, 0x28, 10, 0]);
      await store.save(key, { files: [{ path: 'bin', data }] });
      expect([...(await store.load(key))!.files[0]!.data]).toEqual([...data]);
    });
  });
}
