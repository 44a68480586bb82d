import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { dialHome } from '@forge/dial-home';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PERMISSION_ID, QUESTION_ID } from '../providers/scripted-demo.js';
import { startRemoteAgents, type RemoteAgents } from '../remote-agents.js';
import { ALICE_KEY, BOB_KEY, startApiHarness, testStore, type ApiHarness } from '../test-support/api-harness.js';
import { PlatformMetrics } from '../metrics/platform-metrics.js';
import { PlatformHealth } from './health-routes.js';
import { openApiPath } from './openapi.js';

type Doc = {
  openapi: string;
  components: { schemas: Record<string, unknown> };
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>
  >;
};

/**
 * The served document against the server itself: every route is documented, and every answer below (a success
 * and a typed error per route) is valid against the document's schema for its path, method and status.
 */
describe('GET /api/v1/openapi.json', () => {
  let h: ApiHarness;
  let remote: RemoteAgents;
  let scratch: string;
  let doc: Doc;
  let platformHealth: PlatformHealth;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  const checked = new Set<string>();

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-platform-openapi-'));
    remote = await startRemoteAgents({
      port: 0,
      host: '127.0.0.1',
      secret: 'a-hub-secret-of-at-least-32-bytes-long!!',
      credentialStore: (await testStore()).credentials,
    });
    platformHealth = new PlatformHealth({ backend: 'local', sql: (await testStore()).sql });
    h = await startApiHarness({
      adminUsers: 'alice',
      api: {
        health: platformHealth,
        metrics: new PlatformMetrics(),
        remoteAgents: {
          list: () => remote.list(),
          revoke: (name) => remote.revoke(name),
          issueToken: (o) => remote.issueToken(o),
        },
      },
    });
    const res = await fetch(`${h.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
    ajv.addSchema(doc.components.schemas.Error as object, '#/components/schemas/Error');
  });
  afterAll(async () => {
    await h?.close();
    platformHealth?.close();
    await remote?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** Checks one answer against the document: its status must be documented, its body valid. */
  function conforms(method: string, path: string, res: { status: number; json: unknown; text: string }) {
    const op = doc.paths[path]?.[method.toLowerCase()];
    expect(op, `${method} ${path} is documented`).toBeDefined();
    const response = op!.responses[String(res.status)];
    expect(response, `${method} ${path} documents status ${res.status} (${res.text.slice(0, 200)})`).toBeDefined();
    const json = response!.content?.['application/json'];
    if (json) {
      const schema = json.schema as { $ref?: string };
      const validate = schema.$ref ? ajv.getSchema(schema.$ref)! : ajv.compile(schema);
      const valid = validate(res.json);
      expect(
        valid,
        `${method} ${path} ${res.status}: ${ajv.errorsText(validate.errors)} in ${res.text.slice(0, 300)}`,
      ).toBe(true);
    } else if (res.status !== 101 || response!.content) {
      expect(
        response!.content['text/event-stream'] ?? response!.content['text/plain; version=0.0.4; charset=utf-8'],
      ).toBeDefined();
    }
    checked.add(`${method} ${path} ${res.status >= 400 ? 'error' : 'ok'}`);
  }

  /** Opens the attach WebSocket: 101 when it upgraded. */
  const attachStatus = (url: string) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${url}&command=true`, ['v5.channel.k8s.io']);
      ws.once('upgrade', (res) => resolve(res.statusCode ?? 0));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', reject);
      ws.once('open', () => ws.close());
    });

  const call = async (method: string, path: string, url: string, init: Parameters<ApiHarness['call']>[2] = {}) => {
    const res = await h.call(method, url, init);
    conforms(method, path, res);
    return res;
  };

  it('is OpenAPI 3.1 and documents every route the server has', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const route of h.routes())
      expect(doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()]).toBeDefined();
    expect(doc.paths['/healthz']?.get).toBeDefined();
  });

  it('matches real answers: a success and a typed error on every route', async () => {
    const A = '/api/v1/agents';
    const AG = `${A}/{id}`;
    const health = await fetch(`${h.url}/healthz`);
    conforms('GET', '/healthz', {
      status: health.status,
      json: await health.clone().json(),
      text: await health.text(),
    });
    await call('GET', '/api/v1/openapi.json', '/api/v1/openapi.json', { key: null });
    // Health, metrics and usage (ops-openapi.ts).
    await call('GET', '/livez', '/livez', { key: null });
    await call('GET', '/readyz', '/readyz', { key: null });
    platformHealth.setDraining(true);
    await call('GET', '/readyz', '/readyz', { key: null });
    platformHealth.setDraining(false);
    await call('GET', '/metrics', '/metrics');
    await call('GET', '/metrics', '/metrics', { key: BOB_KEY });
    await call('GET', '/api/v1/usage', '/api/v1/usage?group_by=agent');
    await call('GET', '/api/v1/usage', '/api/v1/usage?since=yesterday');

    await call('GET', '/api/v1/providers', '/api/v1/providers');
    await call('GET', '/api/v1/providers', '/api/v1/providers', { key: 'not-a-key-at-all' });
    await call('GET', '/api/v1/spend', '/api/v1/spend');
    await call('GET', '/api/v1/spend', '/api/v1/spend', { key: null });

    const created = await call('POST', A, A, { body: { provider: 'scripted' } });
    const id = created.json.agent_id as string;
    // An agent with run defaults: shown back as settings, valid against the Agent schema.
    const withDefaults = await call('POST', A, A, {
      body: { provider: 'scripted', effort: 'low', budget: { maxTokens: 1000 } },
    });
    expect(withDefaults.json.settings).toEqual({ effort: 'low', budget: { maxTokens: 1000 } });
    await call('GET', AG, `${A}/${withDefaults.json.agent_id}`);
    await call('DELETE', AG, `${A}/${withDefaults.json.agent_id}`);
    await call('POST', A, A, { body: { provider: 'scripted', mcp_servers: [{ name: 'x', command: 'sh' }] } });
    await call('POST', A, A, { body: { provder: 'scripted' } });
    await call('GET', A, A);
    await call('GET', A, `${A}?user_id=bob`);
    await call('GET', AG, `${A}/${id}?refresh=true`);
    await call('GET', AG, `${A}/nope`);

    // A run that waits for a permission, then one queued behind it.
    const M = `${AG}/messages`;
    const first = await call('POST', M, `${A}/${id}/messages`, { body: { content: 'ask permission to run ls' } });
    await call('POST', M, `${A}/${id}/messages`, { body: { content: '' } });
    const rid = first.json.request_id as string;
    const queued = await call('POST', M, `${A}/${id}/messages`, { body: { content: 'then this' } });
    while (!h.runs.local(rid)?.pendingPermissions.has(PERMISSION_ID)) await new Promise((r) => setImmediate(r));
    const waitingRun = await call('GET', `${AG}/runs/{request_id}`, `${A}/${id}/runs/${rid}`);
    expect(waitingRun.json.pending).toEqual([expect.objectContaining({ id: PERMISSION_ID })]);

    const R = `${AG}/runs/{request_id}`;
    await call('DELETE', R, `${A}/${id}/runs/${queued.json.request_id}`);
    await call('DELETE', R, `${A}/${id}/runs/${rid}`);
    const P = `${AG}/permissions/{permission_id}`;
    await call('POST', P, `${A}/${id}/permissions/${PERMISSION_ID}`, { body: { decision: 'maybe' } });
    await call('POST', P, `${A}/${id}/permissions/${PERMISSION_ID}`, { body: { decision: 'allow' } });
    const E = `${AG}/events`;
    await call('GET', E, `${A}/${id}/events?request_id=${rid}`);
    await call('GET', E, `${A}/${id}/events`);

    // A question, answered.
    const asked = await call('POST', M, `${A}/${id}/messages`, { body: { content: 'ask me a question' } });
    const qid = asked.json.request_id as string;
    while (!h.runs.local(qid)?.pendingQuestions.has(QUESTION_ID)) await new Promise((r) => setImmediate(r));
    const Q = `${AG}/questions/{question_id}`;
    await call('POST', Q, `${A}/${id}/questions/${QUESTION_ID}`, { body: { answers: 'Red' } });
    await call('POST', Q, `${A}/${id}/questions/${QUESTION_ID}`, { body: { answers: [['Red']] } });
    await call('GET', E, `${A}/${id}/events?request_id=${qid}`);

    // One that waits until interrupted.
    const waiting = await call('POST', M, `${A}/${id}/messages`, { body: { content: 'wait for me' } });
    const S = `${AG}/runs/{request_id}/steer`;
    await call('POST', S, `${A}/${id}/runs/${waiting.json.request_id}/steer`, { body: { text: 'also this' } });
    await call('POST', S, `${A}/${id}/runs/${rid}/steer`, { body: { text: 'too late' } });
    await call('POST', `${AG}/interrupt`, `${A}/${id}/interrupt`);
    await call('POST', `${AG}/interrupt`, `${A}/${id}/interrupt?request_id=run_none`);

    const runs = await call('GET', `${AG}/runs`, `${A}/${id}/runs?limit=2`);
    expect(runs.json.runs.length).toBe(2);
    await call('GET', `${AG}/runs`, `${A}/${id}/runs?limit=0`);
    // Filtered (issue 29): the filters are documented parameters, a bad one a documented 400.
    const filtered = await call(
      'GET',
      `${AG}/runs`,
      `${A}/${id}/runs?status=completed,cancelled&since=2026-01-01T00:00:00Z`,
    );
    expect(filtered.json.runs.length).toBeGreaterThan(0);
    expect((await call('GET', `${AG}/runs`, `${A}/${id}/runs?status=done`)).json.error.code).toBe('INVALID_STATUS');
    expect((await call('GET', A, `${A}?state=ready&provider=scripted`)).json.agents.length).toBeGreaterThan(0);
    expect((await call('GET', A, `${A}?state=busy`)).json.error.code).toBe('INVALID_STATE');
    await call('GET', `${AG}/sessions`, `${A}/${id}/sessions`);
    await call('GET', `${AG}/sessions`, `${A}/nope/sessions`);
    await call('GET', `${AG}/logs`, `${A}/${id}/logs?tail=5`);
    await call('GET', `${AG}/logs`, `${A}/${id}/logs?tail=5001`);
    await call('GET', R, `${A}/${id}/runs/${rid}`);
    await call('GET', R, `${A}/${id}/runs/run_none`);

    // Input that could never be stored is a documented 400 (attack round, finding 5), not a database 500.
    const bad: Array<[string, string, string, Parameters<ApiHarness['call']>[2], string]> = [
      ['GET', R, `${A}/${id}/runs/%00`, {}, 'INVALID_REQUEST_ID'],
      ['GET', `${AG}/runs`, `${A}/${id}/runs?cursor=1e20`, {}, 'INVALID_CURSOR'],
      ['GET', E, `${A}/${id}/events?request_id=%00`, {}, 'INVALID_REQUEST_ID'],
      ['POST', M, `${A}/${id}/messages`, { body: { content: 'a\u0000b' } }, 'INVALID_INPUT'],
      ['POST', M, `${A}/${id}/messages`, { body: { content: 'x', model: 'a\ud800' } }, 'INVALID_MODEL'],
      ['POST', P, `${A}/${id}/permissions/%00`, { body: { decision: 'allow' } }, 'INVALID_PERMISSION_ID'],
      ['POST', Q, `${A}/${id}/questions/q%01`, { body: { answers: [['Red']] } }, 'INVALID_QUESTION_ID'],
    ];
    for (const [method, path, url, init, code] of bad) {
      const res = await call(method, path, url, init);
      expect([res.status, res.json.error.code], `${method} ${url}`).toEqual([400, code]);
    }

    // Remote agents: a token (admin), an agent enrolled with it, revoked.
    const T = '/api/v1/remote-agents/tokens';
    const token = await call('POST', T, T, { body: { name: 'desk-1' } });
    await call('POST', T, T, { key: BOB_KEY, body: {} });
    const dialer = dialHome({
      url: remote.url,
      enrolmentToken: token.json.token,
      credentialFile: join(scratch, 'desk-1.json'),
      name: 'desk-1',
      agent: scriptedAgent({ steps: sampleScript('hi') }),
    });
    try {
      await dialer.whenOnline();
      await call('GET', '/api/v1/remote-agents', '/api/v1/remote-agents');
      await call('GET', '/api/v1/remote-agents', '/api/v1/remote-agents', { key: null });
      await call('DELETE', '/api/v1/remote-agents/{name}', '/api/v1/remote-agents/desk-1', { key: BOB_KEY });
      await call('DELETE', '/api/v1/remote-agents/{name}', '/api/v1/remote-agents/desk-1');
      await call('DELETE', '/api/v1/remote-agents/{name}', '/api/v1/remote-agents/desk-1');
    } finally {
      await dialer.stop();
    }

    // Attach: a ticket, the WebSocket it opens (101), and their errors.
    const AT = `${AG}/attach-tickets`;
    const ticket = await call('POST', AT, `${A}/${id}/attach-tickets`);
    await call('POST', AT, `${A}/${id}/attach-tickets`, { key: BOB_KEY });
    const upgraded = await attachStatus(ticket.json.url as string);
    conforms('GET', `${AG}/attach`, { status: upgraded, json: undefined, text: '' });
    await call('GET', `${AG}/attach`, `${A}/${id}/attach`);

    await call('DELETE', AG, `${A}/${id}`);
    await call('DELETE', AG, `${A}/${id}`, { key: ALICE_KEY });

    // API keys and the audit log (issue 29): alice is an admin, bob is not.
    const K = '/api/v1/api-keys';
    const issued = await call('POST', K, K, { body: { user: 'carol', expires_at: '2999-01-01T00:00:00Z' } });
    await call('POST', K, K, { body: { user: 'carol', expires_at: '2000-01-01T00:00:00Z' } });
    await call('GET', K, K);
    await call('GET', K, K, { key: BOB_KEY });
    await call('DELETE', `${K}/{id}`, `${K}/${issued.json.id}`);
    await call('DELETE', `${K}/{id}`, `${K}/${issued.json.id}`);
    await call('GET', '/api/v1/audit', '/api/v1/audit?action=api_key.issued&limit=5');
    await call('GET', '/api/v1/audit', '/api/v1/audit?since=yesterday');

    // Every documented operation was seen answering both ways (the document's own route has no error).
    for (const [path, ops] of Object.entries(doc.paths))
      for (const method of Object.keys(ops)) {
        const m = method.toUpperCase();
        expect(checked.has(`${m} ${path} ok`), `${m} ${path} succeeded`).toBe(true);
        // A stalled event loop (/livez's 503) is PlatformHealth's own test's business.
        if (path !== '/healthz' && path !== '/livez' && path !== '/api/v1/openapi.json')
          expect(checked.has(`${m} ${path} error`), `${m} ${path} answered an error`).toBe(true);
      }
  });

  it('has teeth: a wrong body or an undocumented status fails the check', () => {
    const schema =
      doc.paths['/api/v1/agents/{id}/runs/{request_id}']!.get!.responses['200']!.content['application/json']!.schema;
    const validate = ajv.compile(schema as object);
    expect(validate({ request_id: 'r', agent_id: 'a', status: 'done', event_count: 1, created_at: 'now' })).toBe(false);
    expect(validate({ request_id: 'r', agent_id: 'a', status: 'completed', event_count: 1, extra: 1 })).toBe(false);
    expect(doc.paths['/api/v1/providers']!.get!.responses['418']).toBeUndefined();
  });

  it('documents what a reply relayed to another replica answers when that replica never takes it (504)', async () => {
    // A second replica that runs nothing, and a run "ghost" holds: an instance that never applies a reply.
    const other = await startApiHarness({ runManager: { maxRunning: 0, replyTimeoutMs: 200 } });
    try {
      const agentId = (await other.call('POST', '/api/v1/agents', { body: {} })).json.agent_id as string;
      const store = await testStore();
      const requestId = `req_openapi_ghost_${agentId}`;
      // Inserted as running, not queued: no replica may claim it first.
      await store.sql.query(
        `insert into forge_runs (request_id, user_id, agent_id, status, request, owner, lease_until, created_at, started_at)
         values ($1, 'alice', $2, 'running', '{}'::jsonb, 'ghost', $3, 0, 0)`,
        [requestId, agentId, Date.now() + 600_000],
      );
      const P = '/api/v1/agents/{id}/permissions/{permission_id}';
      const perm = await other.call('POST', `/api/v1/agents/${agentId}/permissions/p1`, {
        body: { decision: 'allow' },
      });
      expect(perm.status).toBe(504);
      expect(perm.json.error).toMatchObject({ code: 'REPLY_NOT_DELIVERED', details: { retryable: true } });
      expect(perm.headers.get('retry-after')).toBe('1');
      conforms('POST', P, perm);
      const Q = '/api/v1/agents/{id}/questions/{question_id}';
      const question = await other.call('POST', `/api/v1/agents/${agentId}/questions/q1`, {
        body: { answers: [['x']] },
      });
      expect(question.json.error.code).toBe('REPLY_NOT_DELIVERED');
      conforms('POST', Q, question);
      await store.sql.query(
        `update forge_runs set status = 'failed', owner = null, finished_at = 1 where request_id = $1`,
        [requestId],
      );
      expect(JSON.stringify(doc)).not.toContain('RUN_ON_OTHER_INSTANCE');
    } finally {
      await other.close();
    }
  });
});
