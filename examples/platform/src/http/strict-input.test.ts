import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_ID } from '../providers/scripted-demo.js';
import { startApiHarness, type ApiHarness } from '../test-support/api-harness.js';

/** Issue 16: unknown fields are errors, errors speak the REST names, and what cannot reach a process is a 400. */
describe('strict input on the REST API', () => {
  let h: ApiHarness;
  /** One agent for the refusals: a refused message starts no run, so it stays free (and the per-key cap is 10). */
  let shared: string;
  beforeAll(async () => {
    h = await startApiHarness();
    shared = await createAgent();
  });
  afterAll(() => h?.close());

  const createAgent = async () => {
    const res = await h.call('POST', '/api/v1/agents', { body: { provider: 'scripted' } });
    expect(res.status).toBe(201);
    return res.json.agent_id as string;
  };
  const send = (id: string, body: unknown) => h.call('POST', `/api/v1/agents/${id}/messages`, { body });
  type Issue = { path: string; code: string; message: string };
  const issues = (res: { json: { error: { details?: { issues?: Issue[] } } } }) => res.json.error.details?.issues ?? [];

  it.each([
    [{ content: 'hi', quux: 1 }, 'quux', undefined],
    [{ content: 'hi', frok: true }, 'frok', 'fork'],
    [{ content: 'hi', cwd: '/etc' }, 'cwd', undefined],
    [{ content: 'hi', timeout: 5 }, 'timeout', 'timeout_ms'],
    [{ content: 'hi', alowed_tools: ['Read'] }, 'alowed_tools', 'allowed_tools'],
    [{ content: 'hi', timeoutMs: 5 }, 'timeoutMs', 'timeout_ms'],
    [{ prompt: 'hi' }, 'prompt', 'content'],
  ])('%j is 400 UNKNOWN_FIELD naming the field (and the REST name meant)', async (body, field, meant) => {
    const res = await send(shared, body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('UNKNOWN_FIELD');
    expect(res.json.error.message).toContain(`"${field}"`);
    const issue = issues(res).find((i) => i.path === field);
    expect(issue?.code).toBe('UNKNOWN_FIELD');
    if (meant) expect(issue?.message).toContain(`did you mean "${meant}"`);
    else expect(issue?.message).not.toContain('did you mean');
  });

  it.each([
    [{}, 'PROMPT_REQUIRED', 'content'],
    [{ content: '  ' }, 'PROMPT_REQUIRED', 'content'],
    [{ content: 'x', timeout_ms: -1 }, 'INVALID_TIMEOUT', 'timeout_ms'],
    [{ content: 'x', max_turns: 0 }, 'INVALID_MAX_TURNS', 'max_turns'],
    [{ content: 'x', permission_mode: 'yolo' }, 'INVALID_PERMISSION_MODE', 'permission_mode'],
    [{ content: 'x', session_id: 5 }, 'INVALID_SESSION_ID', 'session_id'],
    [{ content: 'x', allowed_tools: ['Read', ''] }, 'INVALID_TOOLS', 'allowed_tools.1'],
  ])('errors for %j speak the REST names', async (body, code, path) => {
    const res = await send(shared, body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(code);
    expect(issues(res).map((i) => i.path)).toContain(path);
    const text = JSON.stringify(res.json);
    for (const libraryName of ['prompt', 'timeoutMs', 'maxTurns', 'permissionMode', 'sessionId', 'allowedTools'])
      expect(text).not.toMatch(new RegExp(`\\b${libraryName}\\b`));
  });

  it.each([
    [{ content: 'x', system_prompt: 'be\u0000brief' }, 'INVALID_SYSTEM_PROMPT', 'system_prompt'],
    [{ content: 'x', model: 'son\u0000net' }, 'INVALID_MODEL', 'model'],
    [{ content: 'x', session_id: 'ses\u0000' }, 'INVALID_SESSION_ID', 'session_id'],
    [{ content: 'x', allowed_tools: ['Ba\u0000sh'] }, 'INVALID_TOOLS', 'allowed_tools.0'],
    [{ content: 'x', disallowed_tools: ['\u0000'] }, 'INVALID_TOOLS', 'disallowed_tools.0'],
    [{ content: 'x', system_prompt: 'a'.repeat(200 * 1024) }, 'INVALID_SYSTEM_PROMPT', 'system_prompt'],
  ])('what cannot reach a process is 400, not 202 then PROCESS_SPAWN_FAILED (%#)', async (body, code, path) => {
    const res = await send(shared, body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(code);
    expect(issues(res).map((i) => i.path)).toContain(path);
  });

  it('answers bad input with 400 while the agent is busy, before anything is queued', async () => {
    const id = await createAgent();
    const live = await send(id, { content: 'please wait forever' });
    expect(live.status).toBe(202);
    const queued = await send(id, { content: 'again' });
    expect([queued.status, queued.json.status]).toEqual([202, 'queued']);
    const bad = await send(id, { content: 'again', timeout: 5 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('UNKNOWN_FIELD');
    const empty = await send(id, { content: '' });
    expect(empty.json.error.code).toBe('PROMPT_REQUIRED');
    expect((await h.call('GET', `/api/v1/agents/${id}`)).json.queued_request_ids).toEqual([queued.json.request_id]);
    await h.call('POST', `/api/v1/agents/${id}/interrupt?clear=true`);
  });

  it('refuses unknown fields when creating an agent', async () => {
    const res = await h.call('POST', '/api/v1/agents', { body: { provider: 'scripted', provder: 'x' } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('UNKNOWN_FIELD');
    expect(issues(res)[0]?.message).toContain('did you mean "provider"');
  });

  it('answers a permission reply with a decision nested 5,000 deep, or unknown fields, with 400 — not 500', async () => {
    const id = await createAgent();
    const res = await send(id, { content: 'ask permission to run ls' });
    const requestId = res.json.request_id;
    while (!h.runs.local(requestId)?.pendingPermissions.has(PERMISSION_ID)) await new Promise((r) => setImmediate(r));
    const url = `/api/v1/agents/${id}/permissions/${PERMISSION_ID}`;
    const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const nested = await h.call('POST', url, { body: `{"decision":${deep}}` });
    expect(nested.status).toBe(400);
    expect(nested.json.error.code).toBe('INVALID_DECISION');
    const long = await h.call('POST', url, { body: { decision: 'x'.repeat(100_000) } });
    expect(long.status).toBe(400);
    expect(long.text.length).toBeLessThan(1_000);
    const unknown = await h.call('POST', url, { body: { decision: 'allow', reason: 'ok' } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.code).toBe('UNKNOWN_FIELD');
    const ok = await h.call('POST', url, { body: { decision: 'allow', message: 'go ahead' } });
    expect(ok.status).toBe(200);
  });
});
