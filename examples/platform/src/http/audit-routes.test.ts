import { join } from 'node:path';
import { sampleScript, scriptedAgent } from '@forge/core/testing';
import { dialHome } from '@forge/dial-home';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PERMISSION_ID, QUESTION_ID } from '../providers/scripted-demo.js';
import type { RemoteAgents } from '../remote-agents.js';
import { BOB_KEY, type ApiHarness } from '../test-support/api-harness.js';
import { startHubApiHarness, type HubApiHarness } from '../test-support/hub-api-harness.js';

type Entry = {
  id: string;
  at: string;
  actor: { user_id: string; key_id: string };
  action: string;
  target: string;
  details: Record<string, unknown>;
};

/** Issue 29 item 9: runs and agents filtered, and the audit log of who did what (alice is an admin, bob is not). */
describe('filters and the audit log', () => {
  let hub: HubApiHarness;
  let h: ApiHarness;
  let remote: RemoteAgents;
  let scratch: string;
  const started = new Date(Date.now() - 1_000).toISOString();

  beforeAll(async () => {
    hub = await startHubApiHarness('forge-platform-audit-');
    ({ api: h, remote, scratch } = hub);
  });
  afterAll(() => hub?.close());

  const until = async (check: () => Promise<boolean> | boolean) => {
    while (!(await check())) await new Promise((r) => setTimeout(r, 10));
  };
  const audit = async (query: string) => (await h.call('GET', `/api/v1/audit?${query}`)).json.entries as Entry[];

  it('lists runs by status and time, refusing a bad filter', async () => {
    const id = (await h.call('POST', '/api/v1/agents', { body: {} })).json.agent_id as string;
    const R = `/api/v1/agents/${id}/runs`;
    const done = (await h.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'hello' } })).json
      .request_id;
    await until(async () => (await h.call('GET', `${R}/${done}`)).json.status === 'completed');
    const between = new Date().toISOString();
    const waiting = (await h.call('POST', `/api/v1/agents/${id}/messages`, { body: { content: 'wait for me' } })).json
      .request_id;
    await until(async () => (await h.call('GET', `${R}/${waiting}`)).json.status === 'running');
    const ids = async (q: string) =>
      (await h.call('GET', `${R}?${q}`)).json.runs.map((r: { request_id: string }) => r.request_id);
    expect(await ids('status=completed')).toEqual([done]);
    expect(await ids('status=running')).toEqual([waiting]);
    expect(await ids('status=running,completed')).toEqual([waiting, done]);
    expect(await ids('status=failed')).toEqual([]);
    expect(await ids(`since=${encodeURIComponent(between)}`)).toEqual([waiting]);
    expect(await ids(`until=${encodeURIComponent(between)}`)).toEqual([done]);
    expect(
      await ids(`since=${encodeURIComponent(started)}&until=${encodeURIComponent(between)}&status=completed`),
    ).toEqual([done]);
    for (const [q, code] of [
      ['status=done', 'INVALID_STATUS'],
      ['status=', 'INVALID_STATUS'],
      ['status=completed,', 'INVALID_STATUS'],
      ['since=yesterday', 'INVALID_SINCE'],
      ['since=2026-12-07', 'INVALID_SINCE'],
      ['since=2026-12-07T09:00:00', 'INVALID_SINCE'],
      ['until=2026-13-07T09:00:00Z', 'INVALID_UNTIL'],
      ['since=2026-12-07T10:00:00Z&until=2026-12-07T09:00:00Z', 'INVALID_TIME_RANGE'],
    ]) {
      const res = await h.call('GET', `${R}?${q}`);
      expect([res.status, res.json.error.code], q).toEqual([400, code]);
    }
    await h.call('POST', `/api/v1/agents/${id}/interrupt`);
    await h.call('DELETE', `/api/v1/agents/${id}`);
  });

  it('lists agents by provider and state, refusing a bad filter', async () => {
    const id = (await h.call('POST', '/api/v1/agents', { key: BOB_KEY, body: {} })).json.agent_id as string;
    const ids = async (q: string) =>
      (await h.call('GET', `/api/v1/agents?${q}`, { key: BOB_KEY })).json.agents.map(
        (a: { agent_id: string }) => a.agent_id,
      );
    expect(await ids('provider=scripted')).toEqual([id]);
    expect(await ids('provider=claude-code')).toEqual([]);
    expect(await ids('state=ready&provider=scripted')).toEqual([id]);
    expect(await ids('state=gone')).toEqual([]);
    for (const [q, code] of [
      ['state=busy', 'INVALID_STATE'],
      ['provider=a/b', 'INVALID_PROVIDER'],
    ]) {
      const res = await h.call('GET', `/api/v1/agents?${q}`, { key: BOB_KEY });
      expect([res.status, res.json.error.code], q).toEqual([400, code]);
    }
    await h.call('DELETE', `/api/v1/agents/${id}`, { key: BOB_KEY });
  });

  it('records agents created and deleted, decisions and answers, attaches, tokens and revoked remote agents', async () => {
    const since = new Date().toISOString();
    const id = (await h.call('POST', '/api/v1/agents', { key: BOB_KEY, body: {} })).json.agent_id as string;
    const A = `/api/v1/agents/${id}`;
    const asked = (
      await h.call('POST', `${A}/messages`, { key: BOB_KEY, body: { content: 'ask permission to run ls' } })
    ).json.request_id as string;
    await until(() => h.runs.local(asked)?.pendingPermissions.has(PERMISSION_ID) === true);
    expect(
      (await h.call('POST', `${A}/permissions/${PERMISSION_ID}`, { key: BOB_KEY, body: { decision: 'allow' } })).status,
    ).toBe(200);
    const q = (await h.call('POST', `${A}/messages`, { key: BOB_KEY, body: { content: 'ask me a question' } })).json
      .request_id as string;
    await until(() => h.runs.local(q)?.pendingQuestions.has(QUESTION_ID) === true);
    expect(
      (await h.call('POST', `${A}/questions/${QUESTION_ID}`, { key: BOB_KEY, body: { answers: [['Red']] } })).status,
    ).toBe(200);

    // An attach that runs `true` and ends with exit code 0.
    const ticket = (await h.call('POST', `${A}/attach-tickets`, { key: BOB_KEY })).json;
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`${ticket.url}&command=true`, ['v5.channel.k8s.io']);
      ws.once('error', reject);
      ws.once('close', () => resolve());
    });
    await until(async () => (await audit('action=attach.ended')).some((e) => e.target === id));

    const token = (await h.call('POST', '/api/v1/remote-agents/tokens', { body: { name: 'desk-9' } })).json;
    const dialer = dialHome({
      url: remote.url,
      enrolmentToken: token.token,
      credentialFile: join(scratch, 'desk-9.json'),
      name: 'desk-9',
      agent: scriptedAgent({ steps: sampleScript('hi') }),
    });
    try {
      await dialer.whenOnline();
      expect((await h.call('DELETE', '/api/v1/remote-agents/desk-9')).status).toBe(200);
    } finally {
      await dialer.stop();
    }
    expect((await h.call('DELETE', A, { key: BOB_KEY })).status).toBe(200);

    const bobs = await audit(`user=bob&since=${encodeURIComponent(since)}`);
    const mine = bobs.filter((e) => e.target === id).reverse();
    expect(mine.map((e) => e.action)).toEqual([
      'agent.created',
      'permission.decided',
      'question.answered',
      'attach.opened',
      'attach.ended',
      'agent.deleted',
    ]);
    for (const e of mine) expect(e.actor).toEqual({ user_id: 'bob', key_id: 'bootstrap' });
    expect(mine[1]!.details).toEqual({ request_id: asked, permission_id: PERMISSION_ID, decision: 'allow' });
    expect(mine[2]!.details).toEqual({ request_id: q, question_id: QUESTION_ID });
    expect(mine[3]!.details).toMatchObject({ command: ['true'] });
    expect(mine[4]!.details).toMatchObject({ command: ['true'], exit_code: 0 });
    const alices = await audit(`user=alice&since=${encodeURIComponent(since)}`);
    expect(alices.map((e) => [e.action, e.target])).toEqual([
      ['remote_agent.revoked', 'desk-9'],
      ['enrolment_token.issued', token.token_id],
    ]);
    expect(JSON.stringify(alices)).not.toContain(token.token);
  });

  it('filters the log by action, user and time, pages it, and refuses bad filters', async () => {
    const all = await audit('limit=500');
    expect(all.length).toBeGreaterThan(3);
    const page1 = await h.call('GET', '/api/v1/audit?limit=2');
    expect(page1.json.entries.map((e: Entry) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));
    const page2 = await h.call('GET', `/api/v1/audit?limit=2&cursor=${page1.json.next_cursor}`);
    expect(page2.json.entries.map((e: Entry) => e.id)).toEqual(all.slice(2, 4).map((e) => e.id));
    expect((await audit('action=agent.created')).every((e) => e.action === 'agent.created')).toBe(true);
    const last = all[0]!;
    expect((await audit(`since=${encodeURIComponent(last.at)}`)).map((e) => e.id)).toContain(last.id);
    expect((await audit(`until=${encodeURIComponent(last.at)}`)).map((e) => e.id)).not.toContain(last.id);
    for (const [query, code] of [
      ['action=agent.exploded', 'INVALID_ACTION'],
      ['user=a/b', 'INVALID_USER'],
      ['since=now', 'INVALID_SINCE'],
      ['limit=0', 'INVALID_LIMIT'],
      ['cursor=x', 'INVALID_CURSOR'],
    ]) {
      const res = await h.call('GET', `/api/v1/audit?${query}`);
      expect([res.status, res.json.error.code], query).toEqual([400, code]);
    }
  });
});
