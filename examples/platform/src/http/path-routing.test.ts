import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALICE_KEY, startApiHarness, type ApiHarness } from '../test-support/api-harness.js';
import { rawHttp } from '../test-support/raw-http.js';

/**
 * Attack round, finding 6: `new URL(req.url)` resolved dot segments before routing, so
 * `DELETE /api/v1/agents/X/runs/..` deleted agent X and `…/runs/../../Y` agent Y. Routing is on the raw path
 * now: a dot segment (plain or percent-encoded), an empty segment, a backslash or an encoded slash is a 400
 * INVALID_PATH, whatever the method, and never reaches another route.
 */
describe('routing on the raw path', () => {
  let h: ApiHarness;
  let x: string;
  let y: string;

  beforeAll(async () => {
    h = await startApiHarness({ api: { maxAgentsPerKey: 100 } });
  });
  afterAll(() => h?.close());
  // Two fresh agents per case: a case that got through must not make the next one fail for its own reason.
  beforeEach(async () => {
    const create = async () => (await h.call('POST', '/api/v1/agents', { body: {} })).json.agent_id as string;
    x = await create();
    y = await create();
  });

  const agentCount = async () => (await h.call('GET', '/api/v1/agents')).json.agents.length as number;
  const send = (method: string, path: string, body?: unknown) =>
    rawHttp(h.url, method, path, { key: ALICE_KEY, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

  const attacks: Array<[method: string, path: string, body?: unknown]> = [
    ['DELETE', '/api/v1/agents/{x}/runs/..'],
    ['DELETE', '/api/v1/agents/{x}/runs/%2e%2e'],
    ['DELETE', '/api/v1/agents/{x}/runs/%2E%2E'],
    ['DELETE', '/api/v1/agents/{x}/runs/.%2E'],
    ['DELETE', '/api/v1/agents/{x}/runs/%2e.'],
    ['DELETE', '/api/v1/agents/{x}/runs/../../{y}'],
    ['DELETE', '/api/v1/agents/{x}/runs/%2e%2e/%2e%2e/{y}'],
    ['DELETE', '/api/v1/agents/{x}/runs/..\\..\\{y}'],
    ['DELETE', '/api/v1/agents/{x}/runs/..%5C..%5C{y}'],
    ['DELETE', '/api/v1/agents/{x}/./'],
    ['DELETE', '/api/v1/agents/{y}/../{x}'],
    ['DELETE', '/api/v1/agents/{x}/runs/..%2F..%2F{y}'],
    ['DELETE', '/api/v1/agents/{x}/runs/..%2f'],
    ['DELETE', '/api/v1//agents/{x}'],
    ['DELETE', '//api/v1/agents/{x}'],
    ['GET', '/api/v1/agents/{x}/runs/..'],
    ['GET', '/api/v1/agents/{x}/runs/%2e%2e?refresh=true'],
    ['GET', '/api/v1/agents/{x}/events/..%2f..'],
    ['GET', '/api/v1/agents/{x}/%2e'],
    ['GET', '/api/v1/agents/%2e%2e'],
    ['GET', '/api/v1/agents/x/../../v1/agents'],
    ['POST', '/api/v1/agents/{x}/%2e%2e', {}],
    ['POST', '/api/v1/agents/{x}/..', {}],
    ['POST', '/api/v1/agents/{x}/interrupt/../messages', { content: 'hi' }],
    ['POST', '/api/v1/agents/{y}/messages/%2E%2E/%2E%2E/{x}/messages', { content: 'hi' }],
    ['POST', '/api/v1/agents/{x}/messages/.', { content: 'hi' }],
  ];

  it.each(attacks)('%s %s is 400 INVALID_PATH and touches nothing', async (method, template, body) => {
    const path = template.replaceAll('{x}', x).replaceAll('{y}', y);
    const before = await agentCount();
    const res = await send(method, path, body);
    expect(res.status, `${method} ${path} answered ${res.status} ${res.text}`).toBe(400);
    expect(res.json.error.code).toBe('INVALID_PATH');
    expect(await agentCount()).toBe(before);
    for (const id of [x, y]) expect((await h.call('GET', `/api/v1/agents/${id}`)).status).toBe(200);
    expect((await h.call('GET', `/api/v1/agents/${x}/runs`)).json.runs).toEqual([]);
  });

  it('still serves plain paths, a trailing slash, and paths in absolute form', async () => {
    expect((await send('GET', `/api/v1/agents/${x}`)).status).toBe(200);
    expect((await send('GET', `/api/v1/agents/${x}/`)).status).toBe(200);
    expect((await send('GET', `/api/v1/agents/${x}/runs?limit=5`)).json.runs).toEqual([]);
    expect((await send('GET', `http://platform.example/api/v1/agents/${x}`)).status).toBe(200);
    expect((await send('GET', '/healthz')).status).toBe(200);
  });

  it('does not let the absolute form smuggle dot segments either', async () => {
    const res = await send('DELETE', `http://platform.example/api/v1/agents/${x}/runs/..`);
    expect(res.status).toBe(400);
    expect((await h.call('GET', `/api/v1/agents/${x}`)).status).toBe(200);
  });
});
