import type { AgentEventInit } from '@forge/core';
import { describe, expect, it } from 'vitest';
import { tapUpdates } from './agent-process.js';
import { parseSessionNotification, promptUsage, SessionUpdateMapper } from './mapper.js';
import { agentOutput, recorded } from './test-support/recorded.js';

/** Plays a recorded transcript's agent messages through the mapper, as a run would. */
function replay(
  name: string,
  cwd?: string,
): { events: AgentEventInit[]; result: unknown; mapper: SessionUpdateMapper } {
  const mapper = new SessionUpdateMapper(cwd ? { cwd } : {});
  const events: AgentEventInit[] = [];
  const emit = (e: AgentEventInit) => events.push(e);
  let result: unknown;
  for (const { dir, msg } of recorded(name)) {
    if (dir !== '<-') continue;
    if (msg.method === 'session/update') mapper.map(parseSessionNotification(msg.params), emit, msg);
    else if (msg.method === 'session/request_permission') mapper.permissionCall(msg.params.toolCall, emit, msg);
    else if (msg.result?.stopReason) result = msg.result;
  }
  mapper.finish(emit);
  return { events, result, mapper };
}

const summary = (events: AgentEventInit[]) =>
  events.map((e) => {
    switch (e.type) {
      case 'tool.call':
        return `tool.call ${e.name} ${JSON.stringify(e.input)}`;
      case 'tool.result':
        return `tool.result ${e.isError ? 'error' : 'ok'} ${JSON.stringify(e.output)}`;
      case 'message':
      case 'text.delta':
        return `${e.type} ${e.text}`;
      case 'log':
        return `log ${e.text.slice(0, 40)}`;
      default:
        return e.type;
    }
  });

describe('SessionUpdateMapper on recorded agents', () => {
  it('claude-code-acp Bash: one tool.call with the input (its tool_call comes twice), one result', () => {
    const { events } = replay('claude-acp.tool');
    expect(summary(events)).toEqual([
      'text.delta I will run a',
      'text.delta  command.',
      'message I will run a command.',
      'tool.call Bash {"command":"echo hi","description":"run it"}',
      'log tool_call_update toolu_fake000004',
      'tool.result ok "hi"',
      'text.delta The command ',
      'text.delta printed hi. ',
      'text.delta Done.',
      'message The command printed hi. Done.',
    ]);
    // raw is the agent's message as sent.
    expect(events[3]!.raw).toMatchObject({ params: { update: { rawInput: { command: 'echo hi' } } } });
  });

  it('claude-code-acp Write rejected: the call, then a failed result', () => {
    const { events } = replay('claude-acp.write-reject');
    expect(summary(events)).toEqual([
      'tool.call mcp__acp__Write {"file_path":"/tmp/acp-harness/claude-acp/work/fake-written.txt","content":"written by fake\\n"}',
      'tool.result error "User refused permission to run tool"',
    ]);
  });

  it('Gemini shell: no rawInput, so the input is what it shows; usage from _meta.quota', () => {
    const { events, result } = replay('gemini.tool');
    const call = events.find((e) => e.type === 'tool.call')!;
    expect(call).toMatchObject({
      name: 'execute',
      input: { title: 'echo hi', kind: 'execute', content: expect.stringContaining('(print hi)') },
    });
    expect(summary(events).filter((s) => s.startsWith('tool.result'))).toEqual(['tool.result ok ""']);
    expect(promptUsage(result)).toEqual({
      inputTokens: 23301,
      outputTokens: 13,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    });
  });

  it('Gemini asks before it reports the call: the permission announces it, the update does not repeat it', () => {
    const { events } = replay('gemini-nofs.write-allow');
    expect(summary(events).slice(0, 2)).toEqual([
      'tool.call edit {"title":"Writing to fake-written.txt","kind":"edit","locations":["/tmp/acp-harness/gemini-nofs/work/fake-written.txt"]}',
      'tool.result ok ""',
    ]);
    expect(events.filter((e) => e.type === 'tool.call')).toHaveLength(1);
  });

  it('file.changed once a write has completed: Gemini (diff on completion, _meta.kind add) and claude (diff with the proposal)', () => {
    const gemini = replay('gemini-nofs.write-allow', '/tmp/acp-harness/gemini-nofs/work');
    const geminiChanges = gemini.events.filter((e) => e.type === 'file.changed');
    // The permission request carries the diff too; the change is reported once, on completion.
    expect(geminiChanges).toHaveLength(1);
    expect(geminiChanges[0]).toMatchObject({
      path: 'fake-written.txt',
      change: 'added',
      diff: '--- /dev/null\n+++ b/fake-written.txt\n@@ -0,0 +1,1 @@\n+written by fake\n',
    });
    expect(gemini.mapper.filesChanged()).toEqual([{ path: 'fake-written.txt', change: 'added' }]);
    const claude = replay('claude-acp.write-allow', '/tmp/acp-harness/claude-acp/work');
    expect(summary(claude.events).filter((s) => !s.startsWith('text.delta'))).toEqual([
      'tool.call mcp__acp__Write {"file_path":"/tmp/acp-harness/claude-acp/work/fake-written.txt","content":"written by fake\\n"}',
      'log tool_call_update toolu_fake000014',
      'tool.result ok [{"type":"text","text":"The file /tmp/acp-harness/claude-acp/work/fake-written.txt has been updated successfully."}]',
      'file.changed',
      'message The command printed hi. Done.',
    ]);
    expect(replay('claude-acp.write-reject').events.filter((e) => e.type === 'file.changed')).toEqual([]);
  });

  it('Gemini with client fs: the new-file failure is a failed tool.result with its text', () => {
    const { events } = replay('gemini.write-allow');
    expect(summary(events).find((s) => s.startsWith('tool.result'))).toContain(
      'tool.result error "Error checking existing file',
    );
  });

  it('Gemini cancel mid-tool: the call and its "Command cancelled by user." result', () => {
    const { events, result } = replay('gemini.cancel-tool');
    expect(summary(events).filter((s) => s.startsWith('tool'))).toEqual([
      expect.stringMatching(/^tool\.call execute \{"title":"sleep 30; echo late"/),
      'tool.result ok "Command cancelled by user."',
    ]);
    expect(result).toEqual({ stopReason: 'cancelled' });
  });

  it('keeps unknown update kinds as logs with their raw message', () => {
    const events: AgentEventInit[] = [];
    const raw = {
      method: 'session/update',
      params: { sessionId: 's', update: { sessionUpdate: 'future_thing', x: 1 } },
    };
    new SessionUpdateMapper().map(parseSessionNotification(raw.params), (e) => events.push(e), raw);
    expect(events).toEqual([{ type: 'log', level: 'debug', text: 'session/update future_thing', raw }]);
  });

  it('refuses a malformed envelope', () => {
    expect(() => parseSessionNotification({ sessionId: 1, update: {} })).toThrow(TypeError);
    expect(() => parseSessionNotification(null)).toThrow(TypeError);
  });
});

describe('tapUpdates', () => {
  async function tapRaw(pieces: Uint8Array[]) {
    const updates: unknown[] = [];
    let forwarded = '';
    const out = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of pieces) c.enqueue(p);
        c.close();
      },
    }).pipeThrough(tapUpdates((_p, raw) => updates.push(raw)));
    for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) forwarded += new TextDecoder().decode(chunk);
    return { updates, forwarded };
  }

  async function tap(pieces: Uint8Array[]) {
    const updates: unknown[] = [];
    const order: string[] = [];
    const out = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of pieces) c.enqueue(p);
        c.close();
      },
    }).pipeThrough(
      tapUpdates((params, raw) => {
        updates.push(raw);
        order.push(`update ${params.update.sessionUpdate}`);
      }),
    );
    const decoder = new TextDecoder();
    let forwarded = '';
    for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      forwarded += text;
      for (const l of text.split('\n').filter(Boolean)) {
        const message = JSON.parse(l) as { method?: string; id?: number };
        order.push(`forward ${message.method ?? message.id}`);
      }
    }
    return { updates, forwarded, order };
  }

  it('takes the updates off and forwards every other line, in order, however the bytes are cut', async () => {
    const bytes = new TextEncoder().encode(agentOutput('claude-acp.cancel-permission'));
    const whole = await tap([bytes]);
    expect(whole.updates).toHaveLength(2);
    expect(whole.order).toEqual([
      'update tool_call',
      'update tool_call',
      'forward session/request_permission',
      'forward 8',
    ]);
    for (const size of [1, 3, 7, 64]) {
      const pieces: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
      const cut = await tap(pieces);
      expect(cut.updates).toEqual(whole.updates);
      expect(cut.forwarded).toBe(whole.forwarded);
    }
  });

  it('copes with CRLF, blank lines, a last line without newline, and passes junk on to the SDK', async () => {
    const enc = new TextEncoder();
    const update = JSON.stringify({
      jsonrpc: '2.0',
      method: 'session/update',
      params: { sessionId: 's', update: { sessionUpdate: 'plan', entries: [] } },
    });
    const { updates, forwarded } = await tapRaw([
      enc.encode(`${update}\r\n\n not json "session/update"\n{"jsonrpc":"2.0","id":1,"result":{}}`),
    ]);
    expect(updates).toHaveLength(1);
    expect(forwarded).toBe(' not json "session/update"\n{"jsonrpc":"2.0","id":1,"result":{}}\n');
  });

  it('keeps non-ASCII text whole wherever a chunk cuts a character, and forwards the other lines byte for byte', async () => {
    const update = (text: string) =>
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'session/update',
        params: { sessionId: 's', update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text } } },
      });
    const request = '{"jsonrpc":"2.0","id":2,"method":"fs/read_text_file","params":{"path":"/tmp/ünï ✓"}}';
    const bytes = new TextEncoder().encode(`${update('ünïcödé ✓ 𝄞')}\n${request}\n${update('plain')}\n`);
    for (let cut = 1; cut < bytes.length; cut++) {
      const { updates, forwarded } = await tapRaw([bytes.subarray(0, cut), bytes.subarray(cut)]);
      const texts = updates.map(
        (u) => (u as { params: { update: { content: { text: string } } } }).params.update.content.text,
      );
      expect(texts).toEqual(['ünïcödé ✓ 𝄞', 'plain']);
      expect(forwarded).toBe(`${request}\n`);
    }
  });

  it('leaves a session/update with a malformed envelope, or that is a request, to the SDK (which answers it)', async () => {
    const enc = new TextEncoder();
    const bad = '{"jsonrpc":"2.0","method":"session/update","params":{"sessionId":1,"update":{}}}';
    const asRequest =
      '{"jsonrpc":"2.0","id":3,"method":"session/update","params":{"sessionId":"s","update":{"sessionUpdate":"plan"}}}';
    const { updates, forwarded } = await tapRaw([enc.encode(`${bad}\n  ${asRequest}  \n`)]);
    expect(updates).toEqual([]);
    expect(forwarded).toBe(`${bad}\n  ${asRequest}  \n`);
  });
});
