import { describe, expect, it } from 'vitest';
import { promptContent } from './prompt-content.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]).toString('base64');
const WEBP = Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 ').toString('base64');

describe('promptContent', () => {
  it('is the prompt itself without attachments', () => {
    expect(promptContent('p', 'hello', undefined)).toBe('hello');
    expect(promptContent('p', 'hello', [])).toBe('hello');
  });

  it('puts inline images in image blocks, their type from mimeType or from their first bytes', () => {
    expect(
      promptContent('p', 'look', [
        { kind: 'image', data: PNG, mimeType: 'image/png' },
        { kind: 'image', data: JPEG },
        { kind: 'image', data: WEBP, mimeType: 'application/octet-stream' },
      ]),
    ).toEqual([
      { type: 'text', text: 'look' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: JPEG } },
      { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: WEBP } },
    ]);
  });

  it('puts inline text files and PDFs in document blocks, and names path-only attachments in text', () => {
    const text = Buffer.from('a,b\n1,2\n').toString('base64');
    expect(
      promptContent('p', 'read', [
        { kind: 'file', data: text, mimeType: 'text/csv', name: 'data.csv' },
        { kind: 'file', data: 'JVBERi0=', mimeType: 'application/pdf', name: 'spec.pdf' },
        { kind: 'image', path: '/srv/shot.png' },
      ]),
    ).toEqual([
      { type: 'text', text: 'read' },
      { type: 'document', title: 'data.csv', source: { type: 'text', media_type: 'text/plain', data: 'a,b\n1,2\n' } },
      {
        type: 'document',
        title: 'spec.pdf',
        source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' },
      },
      { type: 'text', text: 'Attached image "shot.png": /srv/shot.png' },
    ]);
  });

  it('refuses what the Messages API cannot take, naming it: an unknown image, an inline binary file', () => {
    expect(() => promptContent('p', 'x', [{ kind: 'image', data: 'AAAA', name: 'blob' }])).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringContaining('"blob"') }),
    );
    expect(() =>
      promptContent('p', 'x', [{ kind: 'file', data: 'AAAA', mimeType: 'application/zip', name: 'a.zip' }]),
    ).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringContaining('application/zip') }));
  });
});
