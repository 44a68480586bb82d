import { describe, expect, it } from 'vitest';
import { scriptedAppServer } from '../test-support/scripted-app-server.js';
import { ConnectionClosedError, JsonRpcClient, JsonRpcError } from './json-rpc-client.js';

const connect = async (handler: Parameters<typeof scriptedAppServer>[0]) => {
  const runner = scriptedAppServer(handler);
  const proc = await runner.spawn('codex', ['app-server']);
  const seen: Array<[string, unknown]> = [];
  const client = new JsonRpcClient(proc, {
    notification: (method, params) => seen.push([`note ${method}`, params]),
    request: (id, method, params) => seen.push([`req ${String(id)} ${method}`, params]),
    stray: (text) => seen.push(['stray', text]),
  });
  return { client, server: runner.servers[0]!, seen };
};

describe('JsonRpcClient', () => {
  it('matches answers to requests by id, in any order, and reports error answers typed', async () => {
    const { client, server } = await connect((m, s) => {
      if (m.method === 'slow') setTimeout(() => s.send({ id: m.id, result: 'slow' }), 20);
      else if (m.method === 'fast') s.send({ id: m.id, result: 'fast' });
      else if (m.method === 'bad') s.send({ id: m.id, error: { code: -32602, message: 'nope' } });
      return true;
    });
    const [slow, fast] = await Promise.all([client.request('slow', {}), client.request('fast', {})]);
    expect([slow, fast]).toEqual(['slow', 'fast']);
    const bad = await client.request('bad', {}).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(JsonRpcError);
    expect(bad).toMatchObject({ code: -32602, method: 'bad' });
    // One message per line, no "jsonrpc" field, as the app server speaks it.
    expect(server.received[0]).toEqual({ id: 1, method: 'slow', params: {} });
  });

  it('routes server requests and notifications, and answers requests', async () => {
    const { client, server, seen } = await connect(() => true);
    server.send({ id: 7, method: 'item/tool/requestUserInput', params: { a: 1 } });
    server.notify('turn/started', { b: 2 });
    server.send({ id: 99, result: 'nobody asked' });
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([
      ['req 7 item/tool/requestUserInput', { a: 1 }],
      ['note turn/started', { b: 2 }],
    ]);
    await client.respond(7, { answers: {} });
    await client.respondError(8, -32601, 'no');
    expect(server.received).toEqual([
      { id: 7, result: { answers: {} } },
      { id: 8, error: { code: -32601, message: 'no' } },
    ]);
  });

  it('rejects pending and later requests once the server has exited', async () => {
    const { client, server } = await connect(() => true);
    const pending = client.request('never', {});
    server.exit(1);
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    await client.done;
    expect(client.isClosed).toBe(true);
    await expect(client.request('later', {})).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});
