import { describe, expect, it } from 'vitest';
import { byteLength } from '@forge/core/internal';
import { CodexJsonlParser, parseCodexJsonl, type CodexJsonlItem } from './jsonl.js';
import { FIXTURES, fixture } from './test-support/fixtures.js';

const enc = new TextEncoder();

/** A deterministic PRNG, so a failing split can be replayed from its seed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function splitAt(bytes: Uint8Array, rand: () => number, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(rand() * max);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

describe('CodexJsonlParser', () => {
  it('parses every recorded fixture the same as a whole-buffer split, however the bytes are cut', () => {
    for (const name of FIXTURES) {
      const text = fixture(name);
      const expected = text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l));
      const bytes = enc.encode(text);
      for (let seed = 1; seed <= 40; seed++) {
        const rand = prng(seed * 7919 + name.length);
        const items = parseCodexJsonl(splitAt(bytes, rand, seed % 5 === 0 ? 3 : 97));
        expect(
          items.map((i) => (i.kind === 'object' ? i.value : i)),
          `${name}, seed ${seed}`,
        ).toEqual(expected);
      }
    }
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const text = '{"type":"item.completed","item":{"id":"i","type":"agent_message","text":"héllo ✓ 日本 🚀"}}\n';
    const bytes = enc.encode(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const items = parseCodexJsonl([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(items).toHaveLength(1);
      expect((items[0] as unknown as { value: { item: { text: string } } }).value.item.text).toBe('héllo ✓ 日本 🚀');
    }
  });

  it('reports non-JSON lines as text, skips blank lines, drops a trailing CR, flushes a last line without newline', () => {
    const items = parseCodexJsonl([
      'WARNING: not json\r\n',
      '\n   \n',
      '{"type":"turn.started"}\r\n',
      '{broken json}\n',
      '[1,2]\n',
      '{"type":"turn.completed"}',
    ]);
    expect(items).toEqual([
      { kind: 'text', text: 'WARNING: not json' },
      { kind: 'object', value: { type: 'turn.started' } },
      { kind: 'text', text: '{broken json}' },
      { kind: 'text', text: '[1,2]' },
      { kind: 'object', value: { type: 'turn.completed' } },
    ]);
  });

  it('skips a line over the cap, whole or in pieces, and goes on with the next', () => {
    const big = `{"type":"item.completed","item":{"text":"${'é'.repeat(300)}"}}`;
    const bytes = enc.encode(`${big}\n{"type":"turn.started"}\n`);
    for (const size of [1, 7, 64, bytes.length]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const items: CodexJsonlItem[] = parseCodexJsonl(chunks, { maxLineBytes: 200 });
      expect(items).toHaveLength(2);
      expect(items[0]).toMatchObject({ kind: 'oversize', bytes: byteLength(big) });
      expect((items[0] as { preview: string }).preview.startsWith('{"type":"item.completed"')).toBe(true);
      expect(items[1]).toEqual({ kind: 'object', value: { type: 'turn.started' } });
    }
    // Exactly at the cap is fine.
    const exact = `{"t":"${'x'.repeat(93)}"}`;
    expect(parseCodexJsonl([`${exact}\n`], { maxLineBytes: byteLength(exact) })[0]!.kind).toBe('object');
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => new CodexJsonlParser(() => {}, { maxLineBytes: 0 })).toThrow(RangeError);
    expect(() => new CodexJsonlParser(() => {}, { maxLineBytes: 1.5 })).toThrow(RangeError);
  });

  it('counts UTF-8 bytes like TextEncoder, lone surrogates included', () => {
    for (const s of ['', 'abc', 'é', '✓', '🚀', 'a\ud800b', '\udc00', '日本🚀x']) {
      expect(byteLength(s), s).toBe(enc.encode(s).length);
    }
  });

  it('survives random garbage without throwing', () => {
    const rand = prng(42);
    const alphabet = ['{', '}', '"', '\n', '\r', 'a', ':', ',', 'é', '🚀', ' ', '\\', '[', ']'];
    for (let round = 0; round < 200; round++) {
      let s = '';
      for (let i = 0; i < 200; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
      const bytes = enc.encode(s);
      expect(() => parseCodexJsonl(splitAt(bytes, rand, 13), { maxLineBytes: 64 })).not.toThrow();
    }
  });
});
