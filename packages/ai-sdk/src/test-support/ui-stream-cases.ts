import { createProviderRegistry, type AgentEventInit, type AgentRun } from '@forge/core';
import { type ScriptStep, scriptedAgent } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { toUIMessageStream, toUIMessageStreamResponse, type ForgeUIMessage } from '../index.js';
import { recordedRuns } from './recorded-runs.js';
import { reviewScript, subagentScript } from './scripts.js';

type Chunk = { type: string };
type Snapshot = ForgeUIMessage;

/** What the tests need of one version of the `ai` package (5.x and 7.x differ in their types, not in these). */
export interface AiUi {
  readUIMessageStream(options: { stream: ReadableStream<any>; onError?: (error: unknown) => void }): AsyncIterable<any>;
  DefaultChatTransport: new (init: {
    api: string;
    fetch: typeof fetch;
  }) => {
    sendMessages(options: {
      trigger: 'submit-message';
      chatId: string;
      messageId: undefined;
      messages: any[];
      abortSignal: AbortSignal | undefined;
    }): Promise<ReadableStream<any>>;
  };
}

/** Reads a UI message stream back the way `useChat` does, to the last message snapshot. */
async function read(ai: AiUi, stream: ReadableStream<Chunk>, onSnapshot?: (m: Snapshot) => Promise<void> | void) {
  const errors: string[] = [];
  let message: Snapshot | undefined;
  for await (const m of ai.readUIMessageStream({
    stream,
    onError: (e) => errors.push(e instanceof Error ? e.message : String(e)),
  })) {
    message = m as Snapshot;
    await onSnapshot?.(message);
  }
  if (!message) throw new Error('the stream made no message');
  return { message, errors };
}

/** One line per part, for comparing whole messages. */
function brief(message: Snapshot): string[] {
  return message.parts.map((p) => {
    switch (p.type) {
      case 'text':
      case 'reasoning':
        return `${p.type}:${p.state}:${p.text}`;
      case 'dynamic-tool':
        return `tool:${p.toolName}:${p.state}`;
      case 'data-plan':
        return `plan:${p.id}:${p.data.entries.map((e) => `${e.status}=${e.content}`).join(',')}`;
      case 'data-file-change':
        return `file:${p.data.change}:${p.data.path}`;
      case 'data-permission':
        return `permission:${p.data.tool}:${p.data.status === 'resolved' ? p.data.decision : 'pending'}`;
      case 'data-question':
        return `question:${p.data.questions.map((q) => q.question).join('|')}:${p.data.status}`;
      case 'data-error':
        return `error:${p.data.code}`;
      default:
        return p.type;
    }
  });
}

const run = (steps: ScriptStep[], provider = 'scripted', outcome?: Parameters<typeof scriptedAgent>[0]['outcome']) =>
  scriptedAgent({ provider, steps, ...(outcome ? { outcome } : {}) }).execute({ prompt: 'hi' });

export function uiMessageStreamCases(ai: AiUi): void {
  describe('recorded runs of every provider', () => {
    it.each(recordedRuns().map((r) => [r.file, r] as const))('%s', async (_, recorded) => {
      const { events, provider } = recorded;
      const { message, errors } = await read(ai, toUIMessageStream(run(events, provider)));
      expect(errors).toEqual([]);
      expect(message.role).toBe('assistant');
      expect(message.metadata?.forge).toMatchObject({ provider, status: 'completed' });
      const messages = events.filter((e) => e.type === 'message').map((e) => e.text);
      const texts = message.parts.flatMap((p) => (p.type === 'text' ? [p.text] : []));
      // Each message once, in order, whether it was streamed as deltas first or not.
      expect(texts).toEqual(messages);
      const reasoning = events.filter((e) => e.type === 'reasoning').map((e) => e.text);
      expect(message.parts.flatMap((p) => (p.type === 'reasoning' ? [p.text] : []))).toEqual(reasoning);
      const results = new Map(events.flatMap((e) => (e.type === 'tool.result' ? [[e.callId, e] as const] : [])));
      const tools = events.flatMap((e) =>
        e.type === 'tool.call'
          ? [`tool:${e.name}:${results.get(e.callId)?.isError ? 'output-error' : 'output-available'}`]
          : [],
      );
      expect(brief(message).filter((b) => b.startsWith('tool:'))).toEqual(tools);
      const decided = events.flatMap((e) => (e.type === 'permission.resolved' ? [e.decision] : []));
      expect(
        message.parts.flatMap((p) =>
          p.type === 'data-permission' && p.data.status === 'resolved' ? [p.data.decision] : [],
        ),
      ).toEqual(decided);
      const asked = events.filter((e) => e.type === 'question.requested').length;
      expect(message.parts.filter((p) => p.type === 'data-question')).toHaveLength(asked);
      // File changes and the plan: what each adapter maps from its recording (nothing yet where it maps none).
      const changes = events.flatMap((e) =>
        e.type === 'file.changed' ? [{ path: e.path, change: e.change, diff: e.diff }] : [],
      );
      expect(
        message.parts.flatMap((p) =>
          p.type === 'data-file-change' ? [{ path: p.data.path, change: p.data.change, diff: p.data.diff }] : [],
        ),
      ).toEqual(changes);
      const plans = events.filter((e) => e.type === 'plan.updated');
      const planParts = message.parts.filter((p) => p.type === 'data-plan');
      expect(planParts.at(-1)?.data.entries).toEqual(plans.at(-1)?.entries);
      for (const p of message.parts) if (p.type === 'text' || p.type === 'reasoning') expect(p.state).toBe('done');
    });

    it('claude-code partial.jsonl: text streamed as deltas, the Bash call with its output, text again', async () => {
      const recorded = recordedRuns().find((r) => r.file === 'claude-code/partial.jsonl')!;
      const { message } = await read(ai, toUIMessageStream(run(recorded.events, recorded.provider)));
      expect(brief(message)).toEqual([
        'step-start',
        'text:done:I will run a command.',
        'tool:Bash:output-available',
        'text:done:The command printed hi. Done.',
      ]);
      const tool = message.parts.find((p) => p.type === 'dynamic-tool');
      expect(tool).toMatchObject({ toolCallId: 'toolu_iz2ko8p9', input: { command: 'echo hi' }, output: 'hi' });
      expect(message.metadata?.forge).toMatchObject({ sessionId: '02e2987c-6721-443b-9ae2-3c2083a21bd8' });
    });

    it('codex app-server-patch: the Edit approval, then each changed file with its diff, in order', async () => {
      const recorded = recordedRuns().find((r) => r.file === 'codex/app-server-patch.events.jsonl')!;
      const { message } = await read(ai, toUIMessageStream(run(recorded.events, recorded.provider)));
      expect(brief(message)).toEqual([
        'step-start',
        'text:done:I will patch the files.',
        'tool:file_change:output-available',
        'permission:Edit:allow',
        'file:deleted:gone.txt',
        'file:modified:keep.txt',
        'file:added:new.txt',
        'file:renamed:new-name.txt',
        'text:done:Patched.',
      ]);
      const renamed = message.parts.flatMap((p) =>
        p.type === 'data-file-change' && p.data.change === 'renamed' ? [p.data] : [],
      );
      expect(renamed).toEqual([
        expect.objectContaining({ oldPath: 'old-name.txt', diff: expect.stringContaining('-hello\n+hi\n') }),
      ]);
    });

    it('claude-code edit-plan.jsonl: each Edit and Write followed by its file change, the Task tools as one live plan', async () => {
      const recorded = recordedRuns().find((r) => r.file === 'claude-code/edit-plan.jsonl')!;
      const { message } = await read(ai, toUIMessageStream(run(recorded.events, recorded.provider)));
      expect(brief(message)).toEqual([
        'step-start',
        'tool:Read:output-available',
        'tool:Edit:output-available',
        'file:modified:a.txt',
        'tool:Write:output-available',
        'file:added:b.txt',
        'tool:Write:output-available',
        'file:modified:a.txt',
        'tool:TaskCreate:output-available',
        // Created by the first TaskCreate, updated in place by every later plan.updated.
        'plan:plan:completed=Read the code,pending=Fix it',
        'tool:TaskCreate:output-available',
        'tool:TaskUpdate:output-available',
        'tool:TaskList:output-available',
        'tool:TaskUpdate:output-available',
        'text:done:all done',
      ]);
      const first = message.parts.find((p) => p.type === 'data-file-change');
      expect(first?.type === 'data-file-change' && first.data.diff).toBe(
        '--- a.txt\n+++ a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n',
      );
    });

    it.each([
      ['claude-code/subagent.jsonl', 'Task', ['dynamic-tool', 'data-file-change']],
      ['opencode/task-subagent.events.jsonl', 'task', ['dynamic-tool', 'data-file-change', 'text']],
    ])('%s: the subagent’s work is tagged with the %s call it happened inside', async (file, tool, types) => {
      const recorded = recordedRuns().find((r) => r.file === file)!;
      const { message } = await read(ai, toUIMessageStream(run(recorded.events, recorded.provider)));
      const task = message.parts.find((p) => p.type === 'dynamic-tool' && p.toolName === tool);
      const id = task?.type === 'dynamic-tool' ? task.toolCallId : 'none';
      const inside = message.parts.filter((p) => JSON.stringify(p).includes(`"parentToolCallId":"${id}"`));
      expect(inside.map((p) => p.type)).toEqual(types);
    });

    it('opencode question.sse: the question as a data part, the question tool with its answer', async () => {
      const recorded = recordedRuns().find((r) => r.file === 'opencode/question.sse')!;
      const { message } = await read(ai, toUIMessageStream(run(recorded.events, recorded.provider)));
      expect(brief(message).slice(0, 3)).toEqual([
        'step-start',
        'question:Which colour?|Which sizes?:pending',
        'tool:question:output-available',
      ]);
    });
  });

  describe('every kind of event', () => {
    it('reasoning, text, a tool, a permission answered, a file change with its diff, the plan in place, a question, a warning', async () => {
      const forge = run(reviewScript());
      const answered = new Set<string>();
      const { message, errors } = await read(ai, toUIMessageStream(forge), async (m) => {
        // Answer as a client would: when the pending request shows up in the message.
        for (const p of m.parts) {
          if (p.type === 'data-permission' && p.data.status === 'pending' && !answered.has(p.data.id)) {
            answered.add(p.data.id);
            await forge.respond(p.data.id, 'allow');
          }
          if (p.type === 'data-question' && p.data.status === 'pending' && !answered.has(p.data.id)) {
            answered.add(p.data.id);
            await forge.answer(p.data.id, [['Yes']]);
          }
        }
      });
      expect(errors).toEqual([]);
      expect(brief(message)).toEqual([
        'step-start',
        'reasoning:done:The test fails on an off-by-one.',
        'text:done:I will fix the loop.',
        'plan:plan:completed=Find the bug,completed=Fix the loop,completed=Run the tests',
        'tool:Edit:output-available',
        'permission:Edit:allow',
        'file:modified:src/loop.ts',
        'error:API_RETRY',
        'tool:Bash:output-available',
        'tool:AskUserQuestion:output-available',
        'question:Commit the fix?:resolved',
        'text:done:Fixed and tested.',
      ]);
      const file = message.parts.find((p) => p.type === 'data-file-change');
      expect(file?.data).toEqual({
        path: 'src/loop.ts',
        change: 'modified',
        diff: expect.stringContaining('-for (let i = 0; i <= n; i++)'),
        toolCallId: 'toolu_edit',
      });
      const permission = message.parts.find((p) => p.type === 'data-permission');
      expect(permission).toMatchObject({
        id: 'toolu_edit',
        data: { status: 'resolved', decision: 'allow', by: 'host', input: { file_path: 'src/loop.ts' } },
      });
      expect(message.parts.find((p) => p.type === 'data-question')).toMatchObject({
        data: { status: 'resolved', by: 'host', questions: [{ question: 'Commit the fix?' }] },
      });
      expect(message.metadata?.forge).toMatchObject({
        provider: 'scripted',
        sessionId: 'ses_review',
        model: 'scripted-model',
        status: 'completed',
        usage: { inputTokens: 100, outputTokens: 40 },
      });
    });

    it('subagent work: its own text and plan parts, tagged with the tool call it happened inside', async () => {
      const { message } = await read(ai, toUIMessageStream(run(subagentScript())));
      expect(brief(message)).toEqual([
        'step-start',
        // A tool part is updated in place: the Task call shows its output where it started.
        'tool:Task:output-available',
        'text:done:Main agent waits. ',
        'text:done:Sub-agent reads. ',
        'plan:plan:task_1:in_progress=Read the file',
        'tool:Read:output-available',
        'text:done:Both done.',
      ]);
      const sub = message.parts.filter((p) => JSON.stringify(p).includes('"parentToolCallId":"task_1"'));
      expect(sub.map((p) => p.type)).toEqual(['text', 'data-plan', 'dynamic-tool']);
    });

    it('sendReasoning: false and sendMetadata: false leave those out', async () => {
      const steps: AgentEventInit[] = [
        { type: 'reasoning', text: 'hmm' },
        { type: 'message', text: 'ok' },
      ];
      const { message } = await read(ai, toUIMessageStream(run(steps), { sendReasoning: false, sendMetadata: false }));
      expect(brief(message)).toEqual(['step-start', 'text:done:ok']);
      expect(message.metadata).toBeUndefined();
    });
  });

  describe('how a run ends', () => {
    it('a failed run: the text so far, then the error as the AI SDK error; the metadata says why', async () => {
      const steps: AgentEventInit[] = [{ type: 'text.delta', text: 'Working', messageId: 'm1' }];
      const outcome = { status: 'failed' as const, error: { code: 'MODEL_ERROR', message: 'The model said no' } };
      const { message, errors } = await read(ai, toUIMessageStream(run(steps, 'scripted', outcome)));
      expect(errors).toEqual(['MODEL_ERROR: The model said no']);
      expect(brief(message)).toEqual(['step-start', 'text:done:Working']);
      expect(message.metadata?.forge).toMatchObject({ status: 'failed', error: { code: 'MODEL_ERROR' } });
    });

    it('a run the host cancels ends with abort, not an error', async () => {
      const forge = run([{ type: 'text.delta', text: 'Start', messageId: 'm1' }, { hang: true }]);
      const chunks: Chunk[] = [];
      const stream = toUIMessageStream(forge).pipeThrough(
        new TransformStream<Chunk, Chunk>({
          transform(chunk, controller) {
            chunks.push(chunk);
            if (chunk.type === 'text-delta') void forge.cancel('stop');
            controller.enqueue(chunk);
          },
        }),
      );
      const { message, errors } = await read(ai, stream);
      expect(errors).toEqual([]);
      expect(chunks.map((c) => c.type).slice(-3)).toEqual(['message-metadata', 'finish-step', 'abort']);
      expect(message.metadata?.forge.status).toBe('cancelled');
    });

    it('a reader that cancels the stream cancels the run (cancelRunOnAbort)', async () => {
      const forge = run([{ type: 'text.delta', text: 'Start', messageId: 'm1' }, { hang: true }]);
      const reader = toUIMessageStream(forge).getReader();
      await reader.read();
      await reader.cancel('the browser went away');
      expect((await forge.result).status).toBe('cancelled');
    });
  });

  describe('toUIMessageStreamResponse behind a route handler, read by the AI SDK chat transport', () => {
    it('the README example: POST runs the agent by registry name, useChat’s transport reads the message', async () => {
      const registry = createProviderRegistry();
      registry.register('claude', scriptedAgent({ provider: 'claude-code', steps: reviewScriptWithoutWaits() }));
      let forge: AgentRun | undefined;
      // The route handler of the README, with its request body as useChat sends it.
      async function POST(req: Request): Promise<Response> {
        const { messages, agent = 'claude' } = (await req.json()) as { messages: ForgeUIMessage[]; agent?: string };
        const last = messages.at(-1);
        const prompt = last?.parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n') ?? '';
        forge = (await registry.get(agent)).execute({ prompt }, { signal: req.signal });
        return toUIMessageStreamResponse(forge);
      }
      const responses: Response[] = [];
      const transport = new ai.DefaultChatTransport({
        api: 'http://app.test/api/chat',
        fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
          const response = await POST(new Request(input, init));
          responses.push(response);
          return response;
        }) as typeof fetch,
      });
      const user = { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Fix the loop' }] };
      const chunks = await transport.sendMessages({
        trigger: 'submit-message',
        chatId: 'chat-1',
        messageId: undefined,
        messages: [user],
        abortSignal: undefined,
      });
      const { message, errors } = await read(ai, chunks);
      expect(errors).toEqual([]);
      expect(responses[0]!.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(responses[0]!.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
      expect(brief(message)).toContain('file:modified:src/loop.ts');
      expect(brief(message).at(-1)).toBe('text:done:Fixed and tested.');
      expect(message.metadata?.forge).toMatchObject({ provider: 'claude-code', status: 'completed' });
      expect((await forge!.result).status).toBe('completed');
    });
  });
}

/** The review script without the steps that wait for a client's answers. */
function reviewScriptWithoutWaits(): ScriptStep[] {
  return reviewScript().filter(
    (s) => !('awaitPermission' in s) && !('awaitQuestion' in s) && !('type' in s && s.type.endsWith('.requested')),
  );
}
