import { readFileSync } from 'node:fs';
import { TransportError } from '@forge/core';
import { collectRun, runProblems, sampleScript, scriptedAgent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { TransportCodes } from './errors.js';
import { servedPair } from './test-support/served-pair.js';

// How serveAgent meets the wire besides HTTP/2 gRPC: HTTP/1.1 on the same port, its protocol sniffing, TLS.
const { serve, client } = servedPair();

describe('HTTP/1.1 on the same port', () => {
  it.each([
    ['connect', 'connect'],
    ['grpc-web', 'grpc-web'],
  ] as const)('runs through grpcAgent with protocol %s over HTTP/1.1 (Execute per run)', async (_n, protocol) => {
    const server = await serve(scriptedAgent({ steps: sampleScript() }));
    const agent = client(server.url, { protocol, httpVersion: '1.1' });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    expect((await agent.status()).provider).toBe('scripted');
  });

  it('answers a plain HTTP/1.1 JSON call (Connect protocol, as curl would send it)', async () => {
    const server = await serve(scriptedAgent({ steps: sampleScript() }));
    const res = await fetch(`${server.url}/forge.agent.v1.AgentService/GetStatus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ provider: 'scripted', capabilities: { resume: true } });
  });
});

describe('protocol sniffing', () => {
  it('tells HTTP/2 from HTTP/1.1 even when the first bytes arrive one at a time', async () => {
    const { connect } = await import('node:net');
    const server = await serve(scriptedAgent({ steps: sampleScript() }));
    const request =
      'POST /forge.agent.v1.AgentService/GetStatus HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}';
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise((r) => socket.once('close', r));
    for (const ch of request.slice(0, 3)) {
      socket.write(ch);
      await new Promise((r) => setTimeout(r, 10));
    }
    socket.write(request.slice(3));
    await closed;
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain('"provider":"scripted"');
  });
});

describe('TLS', () => {
  // A self-signed certificate for localhost and 127.0.0.1 (valid to 2126), for tests only.
  const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url));
  const tls = { key: fixture('tls-key.pem'), cert: fixture('tls-cert.pem') };

  it.each([
    ['gRPC over HTTP/2, bidi', {}],
    ['Connect over HTTP/1.1', { protocol: 'connect' as const, httpVersion: '1.1' as const }],
  ])('serves https and a client trusting the certificate runs through it (%s)', async (_n, mode) => {
    const server = await serve(scriptedAgent({ steps: sampleScript() }), { tls });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const agent = client(server.url, { ...mode, tls: { ca: tls.cert } });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
  });

  it('fails a client that does not trust the certificate, without hanging', async () => {
    const server = await serve(scriptedAgent({ steps: sampleScript() }), { tls });
    const { result } = await collectRun(client(server.url).execute({ prompt: 'x' }));
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(TransportCodes.TLS);
    const error = await client(server.url)
      .status()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: TransportCodes.TLS, retryable: false });
  });
});
