import { describe, expect, it } from 'vitest';
import { byteLength, checkMaxLineBytes, jsonLineItems, JsonLinesParser, type JsonLineItem } from './json-lines.js';

type Item = JsonLineItem<unknown>;

function parse(chunks: Array<Uint8Array | string>, maxLineBytes?: number): Item[] {
  const items: Item[] = [];
  const parser = new JsonLinesParser<unknown>(
    (item) => items.push(item),
    maxLineBytes === undefined ? {} : { maxLineBytes },
  );
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return items;
}

describe('JsonLinesParser', () => {
  it('hands each JSON object on as an object item, other lines as text, and skips blank ones', () => {
    expect(parse(['{"type":"a"}\r\n  \nnot json\n{broken\n', '{"n":1}'])).toEqual([
      { kind: 'object', value: { type: 'a' } },
      { kind: 'text', text: 'not json' },
      { kind: 'text', text: '{broken' },
      { kind: 'object', value: { n: 1 } },
    ]);
  });

  it('joins a line split anywhere, even inside a UTF-8 character', () => {
    const bytes = new TextEncoder().encode('{"t":"ünï ✓"}\n');
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(parse(chunks)).toEqual([{ kind: 'object', value: { t: 'ünï ✓' } }]);
  });

  it('skips a line over the cap, reporting its size and start, and goes on with the next', () => {
    const big = `{"x":"${'y'.repeat(500)}"}`;
    const items = parse([big.slice(0, 100), big.slice(100), '\n{"ok":true}\n'], 64);
    expect(items).toEqual([
      { kind: 'oversize', bytes: big.length, preview: big.slice(0, 200) },
      { kind: 'object', value: { ok: true } },
    ]);
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => checkMaxLineBytes(0)).toThrow(RangeError);
    expect(() => checkMaxLineBytes(1.5)).toThrow(RangeError);
    expect(() => new JsonLinesParser(() => {}, { maxLineBytes: -1 })).toThrow(RangeError);
    expect(checkMaxLineBytes(undefined)).toBe(16 * 1024 * 1024);
  });
});

describe('byteLength', () => {
  it('matches Buffer.byteLength, lone surrogates included, over a whole string or a range', () => {
    for (const s of ['', 'abc', 'ünï', '✓', '😀', '\ud800x', 'x\udc00', 'a😀b\ud83d']) {
      expect(byteLength(s), s).toBe(Buffer.byteLength(s));
      expect(byteLength(`__${s}__`, 2, s.length + 2), s).toBe(Buffer.byteLength(s));
    }
  });
});

describe('jsonLineItems', () => {
  it('iterates the items of sync or async chunks', async () => {
    const items: Item[] = [];
    async function* chunks() {
      yield '{"a":1}\n{"b"';
      yield ':2}\nend';
    }
    for await (const item of jsonLineItems(chunks(), (onItem: (i: Item) => void) => new JsonLinesParser(onItem)))
      items.push(item);
    expect(items).toEqual([
      { kind: 'object', value: { a: 1 } },
      { kind: 'object', value: { b: 2 } },
      { kind: 'text', text: 'end' },
    ]);
  });
});
