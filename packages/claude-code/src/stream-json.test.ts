import { describe, expect, it } from 'vitest';
import { byteLength } from '@forge/core/internal';
import { parseStreamJson, StreamJsonParser, type StreamJsonItem } from './stream-json.js';
import { FIXTURES, fixture, fixtureBytes } from './test-support/recorded-stdout.js';

const enc = new TextEncoder();

function parseAll(chunks: Array<Uint8Array | string>, maxLineBytes?: number): StreamJsonItem[] {
  const items: StreamJsonItem[] = [];
  const parser = new StreamJsonParser((i) => items.push(i), maxLineBytes === undefined ? {} : { maxLineBytes });
  for (const c of chunks) parser.push(c);
  parser.end();
  return items;
}

const messages = (items: StreamJsonItem[]) => items.map((i) => (i.kind === 'object' ? i.value : i));

describe('StreamJsonParser', () => {
  it.each(FIXTURES)('parses the recorded %s stream into one message per line', (name) => {
    const text = fixture(name);
    const expected = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(messages(parseAll([fixtureBytes(name)]))).toEqual(expected);
  });

  it.each(FIXTURES)('gives the same messages for %s split in two at every byte', (name) => {
    const bytes = fixtureBytes(name);
    const expected = messages(parseAll([bytes]));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got = messages(parseAll([bytes.subarray(0, cut), bytes.subarray(cut)]));
      if (JSON.stringify(got) !== JSON.stringify(expected))
        expect.fail(`${name}: different result with a cut at byte ${cut}`);
    }
  });

  it('parses a stream fed one byte at a time', () => {
    const bytes = fixtureBytes('partial');
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(messages(parseAll(chunks))).toEqual(messages(parseAll([bytes])));
  });

  it('joins UTF-8 characters split across chunks (2, 3 and 4 bytes)', () => {
    const text = '{"type":"assistant","text":"é ✓ 日本 😀"}\n';
    const bytes = enc.encode(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const [item] = parseAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(item).toEqual({ kind: 'object', value: { type: 'assistant', text: 'é ✓ 日本 😀' } });
    }
  });

  it('handles CRLF, blank lines and a final line without a newline', () => {
    const items = parseAll(['{"type":"a"}\r\n\r\n', '\n   \n{"type":"b"}\r', '\n{"type":"c"}']);
    expect(messages(items)).toEqual([{ type: 'a' }, { type: 'b' }, { type: 'c' }]);
  });

  it('turns a line that is not JSON into text, and goes on', () => {
    const items = parseAll(['Warning: something odd\n{"type":"a"}\n{not json}\n[1,2]\n{"type":"b"}\n']);
    expect(items).toEqual([
      { kind: 'text', text: 'Warning: something odd' },
      { kind: 'object', value: { type: 'a' } },
      { kind: 'text', text: '{not json}' },
      { kind: 'text', text: '[1,2]' },
      { kind: 'object', value: { type: 'b' } },
    ]);
  });

  it('skips a line over the cap with an oversize item and parses the next one, whole or in pieces', () => {
    const big = `{"type":"assistant","text":"${'x'.repeat(300)}"}`;
    const input = `{"type":"a"}\n${big}\n{"type":"b"}\n`;
    const expected = [
      { kind: 'object', value: { type: 'a' } },
      { kind: 'oversize', bytes: big.length, preview: big.slice(0, 200) },
      { kind: 'object', value: { type: 'b' } },
    ];
    expect(parseAll([input], 100)).toEqual(expected);
    const pieces = input.match(/[\s\S]{1,7}/g)!;
    expect(parseAll(pieces, 100)).toEqual(expected);
    // Over the cap and never ended by a newline.
    expect(parseAll(['{"type":"a"}\n', big.slice(0, 150), big.slice(150)], 100)).toEqual(expected.slice(0, 2));
  });

  it('counts the cap in UTF-8 bytes, not characters', () => {
    const line = `{"type":"t","s":"${'日'.repeat(40)}"}`; // 40 chars of 3 bytes
    expect(Buffer.byteLength(line)).toBe(139);
    expect(parseAll([`${line}\n`], 138)[0]!.kind).toBe('oversize');
    expect(parseAll([`${line}\n`], 139)[0]!.kind).toBe('object');
    const pieces = line.match(/[\s\S]{1,5}/g)!;
    expect(parseAll([...pieces, '\n'], 138)[0]).toMatchObject({ kind: 'oversize', bytes: 139 });
    expect(parseAll([...pieces, '\n'], 139)[0]!.kind).toBe('object');
  });

  it('passes an object without a type on as a message (the mapper decides)', () => {
    expect(parseAll(['{"hello":1}\n'])).toEqual([{ kind: 'object', value: { hello: 1 } }]);
  });

  it('refuses a nonsensical cap', () => {
    expect(() => new StreamJsonParser(() => {}, { maxLineBytes: 0 })).toThrow(RangeError);
  });
});

describe('byteLength', () => {
  it('matches Buffer.byteLength, lone surrogates included', () => {
    for (const s of ['', 'abc', 'é', '✓', '😀', 'a😀b日', '\ud800', 'x\udc00y']) {
      expect(byteLength(s, 0, s.length)).toBe(Buffer.byteLength(s));
    }
  });
});

describe('parseStreamJson', () => {
  async function* chunksOf(bytes: Uint8Array, size: number) {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }

  it('parses an async stream of chunks incrementally', async () => {
    const bytes = fixtureBytes('tool');
    const got: StreamJsonItem[] = [];
    for await (const item of parseStreamJson(chunksOf(bytes, 13))) got.push(item);
    expect(got).toEqual(parseAll([bytes]));
  });

  it('accepts strings, a sync iterable, and the cap', async () => {
    const got: StreamJsonItem[] = [];
    for await (const item of parseStreamJson(['{"type":"a"}\n{"type":"', 'b","x":"long"}\n'], { maxLineBytes: 20 }))
      got.push(item);
    expect(got.map((i) => i.kind)).toEqual(['object', 'oversize']);
  });

  it('stops the source when the reader stops early', async () => {
    let closed = false;
    async function* source() {
      try {
        yield '{"type":"a"}\n{"type":"b"}\n';
        yield '{"type":"c"}\n';
      } finally {
        closed = true;
      }
    }
    for await (const item of parseStreamJson(source())) {
      expect(item.kind).toBe('object');
      break;
    }
    expect(closed).toBe(true);
  });
});
