import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { scriptedAgent, sampleScript } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const { requireBearerToken } = await import('./auth.js');
const { AgentService } = await import('./gen/forge/agent/v1/agent_pb.js');
const { serveAgent } = await import('./serve.js');
const { grpcAgent } = await import('./client.js');

/** Runs the interceptor on a request carrying `authorization`; true when it let the call through. */
async function passes(token: string, authorization: string): Promise<boolean> {
  const next = vi.fn(async () => ({}) as never);
  const req = { service: { typeName: AgentService.typeName }, header: new Headers({ authorization }) } as never;
  try {
    await requireBearerToken(token)(next)(req);
    return true;
  } catch {
    return false;
  }
}

describe('requireBearerToken', () => {
  it('accepts the token and refuses others', async () => {
    expect(await passes('s3cret-token', 'Bearer s3cret-token')).toBe(true);
    expect(await passes('s3cret-token', 'Bearer s3cret-tokeN')).toBe(false);
    expect(await passes('s3cret-token', 'Bearer s3cret')).toBe(false);
    expect(await passes('s3cret-token', 'Basic s3cret-token')).toBe(false);
  });

  it('compares fixed-size digests, so a wrong length takes the same path as a wrong token', async () => {
    const compare = vi.mocked(crypto.timingSafeEqual);
    for (const presented of ['x', 's3cret-token-but-much-longer', 'é'.repeat(6)]) {
      compare.mockClear();
      expect(await passes('s3cret-token', `Bearer ${presented}`)).toBe(false);
      expect(compare).toHaveBeenCalledTimes(1);
      const [a, b] = compare.mock.calls[0]! as [Buffer, Buffer];
      expect([a.byteLength, b.byteLength]).toEqual([32, 32]);
    }
  });
});

interface Refusal {
  status: number | undefined;
  headers: Record<string, unknown>;
  /** The response HEADERS frame carried END_STREAM: a trailers-only response. */
  endStream?: boolean;
  bodyBytes: number;
}

/** One call over HTTP/2 with prior knowledge, read at the frame level Node exposes. */
function h2Call(url: string, path: string, contentType: string, authorization?: string): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': contentType,
      te: 'trailers',
      ...(authorization ? { authorization } : {}),
    });
    let answer: Refusal | undefined;
    stream.on('response', (headers, flags) => {
      answer = {
        status: headers[':status'],
        headers: { ...headers },
        endStream: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0,
        bodyBytes: 0,
      };
    });
    stream.on('data', (chunk: Buffer) => answer && (answer.bodyBytes += chunk.length));
    stream.on('error', () => {});
    stream.on('close', () => {
      session.close();
      answer ? resolve(answer) : reject(new Error('no response'));
    });
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

function h1Call(url: string, path: string, contentType: string): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: 'POST', headers: { 'content-type': contentType } }, (res) => {
      let bodyBytes = 0;
      res.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode, headers: { ...res.headers }, bodyBytes }));
    });
    req.on('error', reject);
    req.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

describe('refuseWithoutToken answers gRPC and gRPC-Web trailers-only', () => {
  let server: Awaited<ReturnType<typeof serveAgent>>;
  beforeAll(async () => {
    server = await serveAgent(scriptedAgent({ steps: sampleScript() }), { port: 0, authToken: 'pod-token' });
  });
  afterAll(async () => {
    await server?.close({ graceful: false });
  });
  const refused = {
    'grpc-status': '16',
    'grpc-message': encodeURIComponent('A valid bearer token is required'),
  };

  for (const method of ['GetStatus', 'Execute', 'Connect']) {
    it(`gRPC ${method}: one HEADERS frame with the status and END_STREAM, no body`, async () => {
      for (const authorization of [undefined, 'Bearer wrong']) {
        const answer = await h2Call(
          server.url,
          `/forge.agent.v1.AgentService/${method}`,
          'application/grpc+proto',
          authorization,
        );
        expect(answer).toMatchObject({ status: 200, endStream: true, bodyBytes: 0, headers: refused });
        expect(answer.headers['content-type']).toBe('application/grpc');
      }
    });
  }

  it('gRPC-Web over HTTP/2: the same trailers-only response', async () => {
    const answer = await h2Call(server.url, '/forge.agent.v1.AgentService/Execute', 'application/grpc-web+proto');
    expect(answer).toMatchObject({ status: 200, endStream: true, bodyBytes: 0, headers: refused });
    expect(answer.headers['content-type']).toBe('application/grpc-web+proto');
  });

  it("Connect's own clients read the refusal, every protocol and HTTP version", async () => {
    const cases = [
      { protocol: 'grpc', httpVersion: '2' },
      { protocol: 'grpc-web', httpVersion: '2' },
      { protocol: 'grpc-web', httpVersion: '1.1' },
      { protocol: 'connect', httpVersion: '1.1' },
    ] as const;
    for (const c of cases) {
      const remote = grpcAgent({ baseUrl: server.url, ...c, authToken: 'wrong' });
      try {
        await expect(remote.status(), JSON.stringify(c)).rejects.toMatchObject({ code: 'AGENT_UNAUTHENTICATED' });
      } finally {
        await remote.close?.();
      }
    }
  });

  it('gRPC-Web over HTTP/1.1: the status in the headers, an empty body', async () => {
    const answer = await h1Call(server.url, '/forge.agent.v1.AgentService/GetStatus', 'application/grpc-web+proto');
    expect(answer).toMatchObject({ status: 200, bodyBytes: 0, headers: { ...refused, 'content-length': '0' } });
  });
});
