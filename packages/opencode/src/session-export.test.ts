import { localProcessRunner, type RunnerFiles } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { OpencodeClient } from './client.js';
import { OPENCODE_SESSION_FILE, opencodeSessionExport } from './session-export.js';

const SESSION = { id: 'ses_1', title: 'hi', directory: '/work/app' };
const MESSAGES = [{ info: { id: 'msg_1', role: 'user' }, parts: [{ type: 'text', text: 'remember MANGO' }] }];

function layout(seen: string[] = []) {
  const client = new OpencodeClient({
    baseUrl: 'http://opencode.test',
    fetch: async (input) => {
      const url = new URL(String(input));
      seen.push(`${url.pathname}${url.search}`);
      if (url.pathname === '/session/ses_1') return Response.json(SESSION);
      if (url.pathname === '/session/ses_1/message') return Response.json(MESSAGES);
      return new Response('{"name":"NotFoundError"}', { status: 404 });
    },
  });
  return opencodeSessionExport({
    client: async () => client,
    runner: localProcessRunner(),
    bin: '/opt/opencode',
    env: { XDG_DATA_HOME: '/data' },
    passEnv: [],
    directory: '/srv',
  });
}

/** Records what would run where the server runs. */
function recordingFiles(calls: unknown[]): RunnerFiles {
  return {
    size: async () => undefined,
    read: async () => new Uint8Array(),
    async write(path, data) {
      calls.push({ write: path, text: new TextDecoder().decode(data) });
    },
    async shell(script, args = []) {
      calls.push({ shell: script, args });
      return script.includes('TMPDIR') ? '/tmp' : '';
    },
  };
}

describe('opencodeSessionExport', () => {
  const io = recordingFiles([]);

  it("exports a session as `opencode export` prints it, from the server, in the request's directory", async () => {
    const seen: string[] = [];
    const files = await layout(seen).exportSession({ sessionId: 'ses_1', cwd: '/work/app' }, io);
    expect(files.map((f) => f.path)).toEqual([OPENCODE_SESSION_FILE]);
    expect(JSON.parse(new TextDecoder().decode(files[0]!.data))).toEqual({ info: SESSION, messages: MESSAGES });
    expect(seen).toEqual(['/session/ses_1?directory=%2Fwork%2Fapp', '/session/ses_1/message?directory=%2Fwork%2Fapp']);
  });

  it('a session the server does not know exports nothing and is missing', async () => {
    const l = layout();
    expect(await l.exportSession({ sessionId: 'ses_gone' }, io)).toEqual([]);
    expect(await l.hasSession({ sessionId: 'ses_gone' }, io)).toBe(false);
    expect(await l.hasSession({ sessionId: 'ses_1' }, io)).toBe(true);
  });

  it('imports through the CLI where the server runs, from a temporary file it then removes', async () => {
    const calls: Array<{ write?: string; text?: string; shell?: string; args?: string[] }> = [];
    const data = new TextEncoder().encode('{"info":{"id":"ses_1"}}');
    await layout().importSession(
      { sessionId: 'ses_1' },
      [{ path: OPENCODE_SESSION_FILE, data }],
      recordingFiles(calls),
    );
    const tmp = calls[1]!.write!;
    expect(tmp).toMatch(/^\/tmp\/forge-opencode-ses_1-[0-9a-f-]{36}\.json$/);
    expect(calls[1]!.text).toBe('{"info":{"id":"ses_1"}}');
    expect(calls[2]!.args).toEqual(['/opt/opencode', tmp, '/srv']);
    expect(calls[2]!.shell).toContain('"$1" import "$2"');
    expect(calls[2]!.shell).toContain('rm -f -- "$2"');
  });

  it('an import after which the server still lacks the session fails clearly', async () => {
    const data = new TextEncoder().encode('{"info":{"id":"ses_gone"}}');
    await expect(
      layout().importSession({ sessionId: 'ses_gone' }, [{ path: OPENCODE_SESSION_FILE, data }], recordingFiles([])),
    ).rejects.toMatchObject({ code: 'OPENCODE_IMPORT_FAILED' });
  });

  // Failed first: the import ran whatever the stored export held, so a snapshot saved over a link under one
  // session's key could import as another session (overwriting it on a server several agents share).
  it.each([
    ['another session', { info: { id: 'ses_victim' }, messages: [] }],
    [
      'messages of another session',
      { info: { id: 'ses_1' }, messages: [{ info: { id: 'm', sessionID: 'ses_victim' } }] },
    ],
    ['no session at all', { messages: [] }],
  ])('refuses an export that is %s, before running anything', async (_what, body) => {
    const calls: unknown[] = [];
    const data = new TextEncoder().encode(JSON.stringify(body));
    await expect(
      layout().importSession({ sessionId: 'ses_1' }, [{ path: OPENCODE_SESSION_FILE, data }], recordingFiles(calls)),
    ).rejects.toMatchObject({ code: 'OPENCODE_IMPORT_REFUSED' });
    expect(calls).toEqual([]);
  });
});
