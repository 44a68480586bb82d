import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE_KEY, startApiHarness, type ApiHarness } from '../test-support/api-harness.js';

/** Writes raw bytes (what fetch would refuse to send) and reads the answer until the server closes. */
function rawRequest(url: string, text: string): Promise<{ status: number; headers: string; body: string }> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (out += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = out.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body });
    });
  });
}

/** Issue 16: Node's own 4xx answers had no JSON body; every error the server can shape has the API's. */
describe("Node's own 4xx answers in the API's JSON shape", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(() => h?.close());

  it.each([
    [
      'headers too large',
      431,
      'HEADERS_TOO_LARGE',
      `GET /api/v1/agents HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ],
    [
      'a negative Content-Length',
      400,
      'BAD_REQUEST',
      'POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    ],
    ['an unknown method', 400, 'BAD_REQUEST', 'FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['garbage', 400, 'BAD_REQUEST', 'hello\r\n\r\n'],
  ])('%s is %i %s with { error: { code, message } }', async (_, status, code, text) => {
    const res = await rawRequest(h.url, text);
    expect(res.status).toBe(status);
    expect(res.headers).toContain('content-type: application/json');
    expect(res.headers).toContain('connection: close');
    const body = JSON.parse(res.body);
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
  });

  it('answers HEAD where only POST is served with 405, the JSON error headers and an Allow list', async () => {
    const res = await rawRequest(
      h.url,
      `HEAD /api/v1/agents/agt_x/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE_KEY}\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBe(405);
    expect(res.headers).toContain('content-type: application/json');
    expect(res.headers).toMatch(/content-length: [1-9]/);
    expect(res.headers).toContain('allow: post');
    expect(res.body).toBe('');
  });

  it('lists HEAD wherever GET is allowed', async () => {
    const res = await h.call('PUT', '/api/v1/agents');
    expect(res.status).toBe(405);
    expect(res.json.error.code).toBe('METHOD_NOT_ALLOWED');
    expect(res.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
  });
});
