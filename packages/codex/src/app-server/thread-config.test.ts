import { validateRequest } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { mcpConfig, turnInput } from './thread-config.js';

describe('mcpConfig', () => {
  it('one required mcp_servers.<name> table per server: command servers and streamable-HTTP URL servers', () => {
    expect(
      mcpConfig([
        { name: 'probe', command: 'node', args: ['s.mjs'], env: { K: 'v' } },
        { name: 'docs', url: 'https://mcp.example/mcp', headers: { Authorization: 'Bearer t' } },
        { name: 'bare', command: 'x' },
      ]),
    ).toEqual({
      'mcp_servers.probe': { command: 'node', args: ['s.mjs'], env: { K: 'v' }, required: true },
      'mcp_servers.docs': {
        url: 'https://mcp.example/mcp',
        http_headers: { Authorization: 'Bearer t' },
        required: true,
      },
      'mcp_servers.bare': { command: 'x', args: [], required: true },
    });
    expect(mcpConfig(undefined)).toEqual({});
  });

  it('refuses an SSE server and a name Codex cannot key with UNSUPPORTED_FIELD', () => {
    expect(() => mcpConfig([{ name: 'old', url: 'http://h/sse', transport: 'sse' }])).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FIELD' }),
    );
    expect(() => mcpConfig([{ name: 'a.b', command: 'x' }])).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FIELD' }),
    );
  });
});

describe('turnInput', () => {
  it('the prompt, then images: a path as localImage (relative to the cwd), inline data as a data URL', () => {
    const request = validateRequest({
      prompt: 'look',
      attachments: [
        { kind: 'image', path: 'a.png' },
        { kind: 'image', path: '/abs/b.png' },
        { kind: 'image', data: 'QUJD', mimeType: 'image/jpeg' },
        { kind: 'image', data: 'QUJD' },
      ],
    });
    expect(turnInput(request, '/work')).toEqual([
      { type: 'text', text: 'look', text_elements: [] },
      { type: 'localImage', path: '/work/a.png' },
      { type: 'localImage', path: '/abs/b.png' },
      { type: 'image', url: 'data:image/jpeg;base64,QUJD' },
      { type: 'image', url: 'data:image/png;base64,QUJD' },
    ]);
  });
});
