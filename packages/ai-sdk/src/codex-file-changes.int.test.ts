import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codex } from '@forge/codex';
import {
  codexBinPath,
  type FakeResponsesApi,
  type FakeResponsesResponder,
  fakeResponsesProvider,
  startFakeResponsesApi,
} from '@forge/codex/testing';
import type { CodeAgent } from '@forge/core';
import { readUIMessageStream } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForgeUIMessage } from './index.js';
import { toUIMessageStream } from './to-ui-message-stream.js';

/** The model's apply_patch (Codex intercepts it in `exec_command`), as Codex's own prompt teaches it. */
const applyPatch = (body: string) => `apply_patch <<'EOF'\n*** Begin Patch\n${body}*** End Patch\nEOF\n`;

/**
 * A live run of the real Codex CLI (`codex app-server`, the default transport) against the fake Responses API on
 * 127.0.0.1: its patch approval answered from the UI message (as a `useChat` client would, through the server),
 * and its file changes arriving as `data-file-change` parts with their diffs.
 */
describe('the real Codex CLI through toUIMessageStream', () => {
  let api: FakeResponsesApi;
  let scratch: string;
  let responder: FakeResponsesResponder = () => ({ text: 'unset' });
  let agent: CodeAgent | undefined;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-ai-sdk-codex-'));
    await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
    api = await startFakeResponsesApi({ respond: (req) => responder(req) });
  });
  afterAll(async () => {
    await agent?.close?.();
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('an approved patch: the permission part resolves, each changed file is a data-file-change with its diff', async () => {
    await writeFile(join(scratch, 'keep.txt'), 'one\ntwo\n');
    const patch = applyPatch('*** Add File: new.txt\n+fresh\n*** Update File: keep.txt\n@@\n one\n-two\n+TWO\n');
    responder = (req) => (req.hasToolOutput ? { text: 'Patched.' } : { shell: patch });
    agent = codex({
      bin: codexBinPath(),
      cwd: scratch,
      model: 'fake-model',
      provider: fakeResponsesProvider(api.url),
      env: { HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') },
    });
    const run = agent.execute({ prompt: 'patch it', timeoutMs: 60_000 });
    const answered = new Set<string>();
    let message: ForgeUIMessage | undefined;
    for await (const m of readUIMessageStream<ForgeUIMessage>({ stream: toUIMessageStream(run) })) {
      message = m;
      for (const p of m.parts)
        if (p.type === 'data-permission' && p.data.status === 'pending' && !answered.has(p.data.id)) {
          answered.add(p.data.id);
          await run.respond(p.data.id, 'allow');
        }
    }
    expect((await run.result).status).toBe('completed');
    const parts = message!.parts;
    expect(parts.filter((p) => p.type === 'data-permission').map((p) => p.data)).toEqual([
      expect.objectContaining({ tool: 'Edit', status: 'resolved', decision: 'allow', by: 'host' }),
    ]);
    const files = parts.flatMap((p) => (p.type === 'data-file-change' ? [p.data] : []));
    const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
    expect(byPath['new.txt']).toMatchObject({ change: 'added', diff: expect.stringContaining('+fresh\n') });
    expect(byPath['keep.txt']).toMatchObject({ change: 'modified', diff: expect.stringMatching(/-two\n\+TWO\n/) });
    const fileTool = parts.find((p) => p.type === 'dynamic-tool' && p.toolName === 'file_change');
    expect(fileTool).toMatchObject({ state: 'output-available' });
    for (const f of files) expect(f.toolCallId).toBe(fileTool && 'toolCallId' in fileTool ? fileTool.toolCallId : '');
    expect(parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).at(-1)).toBe('Patched.');
    expect(message!.metadata?.forge).toMatchObject({ provider: 'codex', status: 'completed' });
    expect(await readFile(join(scratch, 'keep.txt'), 'utf8')).toBe('one\nTWO\n');
  }, 120_000);
});
