import {
  type AgentContext,
  agent,
  type InitializeResponse,
  methods,
  ndJsonStream,
  PROTOCOL_VERSION,
  RequestError,
  type SessionUpdate,
} from '@agentclientprotocol/sdk';
import type { ProcessExit, ProcessRunner, RunningProcess, SpawnOptions } from '@forge/core';
import { AsyncQueue } from '@forge/core/internal';

/**
 * An in-process ACP agent built on the SDK's agent side, behind a ProcessRunner: the adapter
 * spawns it and talks to it over byte streams, as it would to a real agent's stdin/stdout. What it
 * does with a prompt depends on the prompt's first word (`text`, `tool`, `permission`, `hang`,
 * `die`, `error`, `api500`, `thought`, `plan`, `edit`, `editfail`, `json`, `badjson`, `unknown`, `maxtokens`, `refusal`, `toolhang`,
 * `usage`, `history`).
 */
export interface ScriptedAcpOptions {
  initialize?: Partial<InitializeResponse>;
  modes?: string[];
  models?: string[];
  /** Exit right away at start, with this stderr and code. */
  crashOnStart?: { stderr: string; code: number };
  /** Never answer initialize. */
  silentInitialize?: boolean;
  /** Play this scenario whatever the prompt says. */
  scenario?: string;
}

export interface ScriptedProcess {
  pid: number;
  command: string;
  args: string[];
  options: SpawnOptions;
  /** Methods the agent received, in order. */
  received: Array<{ method: string; params: unknown }>;
  signals: NodeJS.Signals[];
  exit: ProcessExit | undefined;
  stdinClosed: boolean;
  /** Ends the process now (as a crash: stderr, then exit). */
  die(code: number, stderr?: string): void;
}

export interface ScriptedAcpRunner extends ProcessRunner {
  readonly processes: ScriptedProcess[];
}

const encoder = new TextEncoder();
let nextPid = 50_000;

export function scriptedAcpRunner(options: ScriptedAcpOptions = {}): ScriptedAcpRunner {
  const processes: ScriptedProcess[] = [];
  return {
    processes,
    async spawn(command, args, spawnOptions = {}) {
      const toAgent = new TransformStream<Uint8Array, Uint8Array>();
      const big = { highWaterMark: Number.POSITIVE_INFINITY, maxBuffered: Number.POSITIVE_INFINITY };
      const stdout = new AsyncQueue<Uint8Array>(big);
      const stderr = new AsyncQueue<Uint8Array>(big);
      let resolveExit!: (e: ProcessExit) => void;
      const exited = new Promise<ProcessExit>((r) => (resolveExit = r));
      const stdinWriter = toAgent.writable.getWriter();
      const record: ScriptedProcess = {
        pid: nextPid++,
        command,
        args: [...args],
        options: spawnOptions,
        received: [],
        signals: [],
        exit: undefined,
        stdinClosed: false,
        die: (code, text) => end({ code, signal: null }, text),
      };
      processes.push(record);
      const stopped = new AbortController();
      const end = (exit: ProcessExit, stderrText?: string) => {
        if (record.exit) return;
        record.exit = exit;
        stopped.abort();
        if (stderrText) stderr.push(encoder.encode(stderrText));
        connection.close();
        stdout.end();
        stderr.end();
        void stdinWriter.abort().catch(() => undefined);
        resolveExit(exit);
      };

      const out = new WritableStream<Uint8Array>({
        write(chunk) {
          if (!record.exit) stdout.push(chunk);
        },
      });
      const app = buildAgent(options, record, stopped.signal, () =>
        record.die(137, 'scripted agent: dying mid-turn\n'),
      );
      const connection = app.connect(ndJsonStream(out, toAgent.readable));
      // End of input ends the agent, as real ACP agents do.
      void connection.closed.then(() => end({ code: 0, signal: null }));

      const proc: RunningProcess = {
        pid: record.pid,
        stdout,
        stderr,
        stdin: {
          async write(data) {
            if (record.exit) return;
            await stdinWriter.write(typeof data === 'string' ? encoder.encode(data) : data).catch(() => undefined);
          },
          async end() {
            record.stdinClosed = true;
            await stdinWriter.close().catch(() => undefined);
          },
        },
        exited,
        kill(signal: NodeJS.Signals = 'SIGTERM') {
          if (record.exit) return false;
          record.signals.push(signal);
          end({ code: null, signal });
          return true;
        },
      };
      if (options.crashOnStart) {
        const { stderr: text, code } = options.crashOnStart;
        queueMicrotask(() => end({ code, signal: null }, text));
      }
      return proc;
    },
  };
}

function buildAgent(options: ScriptedAcpOptions, record: ScriptedProcess, stopped: AbortSignal, die: () => void) {
  const cancelled = new Map<string, AbortController>();
  let sessionSeq = 0;
  const modes = options.modes ?? ['default', 'acceptEdits', 'plan'];
  const models = options.models ?? ['fast', 'smart'];
  const sessionState = () => ({
    modes: { currentModeId: modes[0]!, availableModes: modes.map((id) => ({ id, name: id })) },
    models: { currentModelId: models[0]!, availableModels: models.map((modelId) => ({ modelId, name: modelId })) },
  });
  const note = (method: string, params: unknown) => record.received.push({ method, params });
  const update = (client: AgentContext, sessionId: string, u: SessionUpdate) =>
    client.notify(methods.client.session.update, { sessionId, update: u });
  const text = (client: AgentContext, sessionId: string, t: string) =>
    update(client, sessionId, { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: t } });
  const waitCancel = (sessionId: string) =>
    new Promise<void>((resolve) => {
      const c = cancelled.get(sessionId)!;
      if (c.signal.aborted) resolve();
      c.signal.addEventListener('abort', () => resolve(), { once: true });
      stopped.addEventListener('abort', () => resolve(), { once: true });
    });

  return agent({ name: 'scripted-acp' })
    .onRequest(methods.agent.initialize, async ({ params }) => {
      note('initialize', params);
      if (options.silentInitialize) await new Promise(() => {});
      return {
        protocolVersion: PROTOCOL_VERSION,
        agentInfo: { name: 'scripted-acp', title: 'Scripted', version: '9.9.9' },
        agentCapabilities: {
          loadSession: true,
          promptCapabilities: { image: true, embeddedContext: false },
        },
        authMethods: [],
        ...options.initialize,
      };
    })
    .onRequest(methods.agent.session.new, async ({ params }) => {
      note('session/new', params);
      const sessionId = `sess-${record.pid}-${++sessionSeq}`;
      cancelled.set(sessionId, new AbortController());
      return { sessionId, ...sessionState() } as never;
    })
    .onRequest(methods.agent.session.load, async ({ params, client }) => {
      note('session/load', params);
      if (!params.sessionId.startsWith('sess-')) throw RequestError.resourceNotFound(params.sessionId);
      cancelled.set(params.sessionId, new AbortController());
      await update(client, params.sessionId, {
        sessionUpdate: 'user_message_chunk',
        content: { type: 'text', text: 'an earlier prompt' },
      });
      await text(client, params.sessionId, 'an earlier answer');
      return sessionState() as never;
    })
    .onRequest(methods.agent.session.setMode, async ({ params }) => {
      note('session/set_mode', params);
      return {};
    })
    .onRequest(
      'session/set_model',
      (p: unknown) => p as { sessionId: string; modelId: string },
      async ({ params }) => {
        note('session/set_model', params);
        return {};
      },
    )
    .onNotification(methods.agent.session.cancel, ({ params }) => {
      note('session/cancel', params);
      cancelled.get(params.sessionId)?.abort();
    })
    .onRequest(methods.agent.session.prompt, async ({ params, client }) => {
      note('session/prompt', params);
      const { sessionId } = params;
      const c = new AbortController();
      cancelled.set(sessionId, c);
      const first = params.prompt[0];
      const word = options.scenario ?? (first?.type === 'text' ? first.text : '').split(/\s+/)[0];
      // Core's structured-output repair turn: the corrected answer.
      if (first?.type === 'text' && first.text.includes('did not match')) {
        await text(client, sessionId, '{"verdict":"ok"}');
        return { stopReason: 'end_turn' };
      }
      switch (word) {
        case 'json':
          await text(client, sessionId, '{"verdict":');
          await text(client, sessionId, '"ok"}');
          return { stopReason: 'end_turn' };
        case 'badjson':
          await text(client, sessionId, 'It looks fine to me.');
          return { stopReason: 'end_turn' };
        case 'hang':
          await text(client, sessionId, 'working…');
          await waitCancel(sessionId);
          return { stopReason: 'cancelled' };
        case 'deaf':
          // Ignores session/cancel: the turn never ends.
          await text(client, sessionId, 'not listening');
          await new Promise(() => {});
          return { stopReason: 'end_turn' };
        case 'die':
          await text(client, sessionId, 'about to crash');
          setTimeout(die, 5);
          await new Promise(() => {});
          return { stopReason: 'end_turn' };
        case 'fswrite':
        case 'fsread': {
          // The prompt names the path: `fswrite /some/path`.
          const path = (first?.type === 'text' ? first.text : '').split(/\s+/)[1] ?? '';
          try {
            if (word === 'fswrite') {
              await client.request(methods.client.fs.writeTextFile, { sessionId, path, content: 'from the agent\n' });
              await text(client, sessionId, 'wrote');
            } else {
              const read = await client.request(methods.client.fs.readTextFile, { sessionId, path });
              await text(client, sessionId, `read: ${read.content}`);
            }
          } catch (error) {
            await text(client, sessionId, `refused: ${(error as Error).message}`);
          }
          return { stopReason: 'end_turn' };
        }
        case 'error':
          throw RequestError.internalError({ details: 'scripted failure' });
        case 'api500':
          throw new RequestError(500, '{"error":{"code":500,"message":"fake internal error","status":"INTERNAL"}}');
        case 'maxtokens':
          await text(client, sessionId, 'cut');
          return { stopReason: 'max_tokens' };
        case 'refusal':
          return { stopReason: 'refusal' };
        case 'thought':
          await update(client, sessionId, {
            sessionUpdate: 'agent_thought_chunk',
            content: { type: 'text', text: 'pondering' },
          });
          await text(client, sessionId, 'decided');
          return { stopReason: 'end_turn' };
        case 'plan':
          await update(client, sessionId, {
            sessionUpdate: 'plan',
            entries: [{ content: 'step one', priority: 'high', status: 'pending' }],
          });
          await update(client, sessionId, {
            sessionUpdate: 'plan',
            entries: [
              { content: 'step one', priority: 'high', status: 'completed' },
              { content: 'step two', priority: 'low', status: 'in_progress' },
            ],
          });
          await update(client, sessionId, {
            sessionUpdate: 'available_commands_update',
            availableCommands: [{ name: 'init', description: 'init' }],
          });
          await text(client, sessionId, 'planned');
          return { stopReason: 'end_turn' };
        case 'edit':
        case 'editfail': {
          // claude-code-acp's way: the diff comes with the proposal (a new file: oldText null), the completion
          // has none; then Gemini's: the diff again on completion, a new file as oldText "" with _meta.kind add.
          const diffs = [
            { type: 'diff' as const, path: '/work/src/new.ts', oldText: null, newText: 'export const a = 1;\n' },
            { type: 'diff' as const, path: '/work/README.md', oldText: 'one\ntwo\n', newText: 'one\nthree\n' },
          ];
          await update(client, sessionId, {
            sessionUpdate: 'tool_call',
            toolCallId: 'call_e',
            title: 'Edit',
            kind: 'edit',
            status: 'pending',
            rawInput: { files: 2 },
            content: diffs,
          });
          await update(client, sessionId, {
            sessionUpdate: 'tool_call_update',
            toolCallId: 'call_e',
            status: word === 'edit' ? 'completed' : 'failed',
            rawOutput: word === 'edit' ? 'edited' : 'refused',
          });
          const gemini = { type: 'diff' as const, path: '/elsewhere/x.txt', oldText: '', newText: 'x\n' };
          await update(client, sessionId, {
            sessionUpdate: 'tool_call',
            toolCallId: 'call_g',
            title: 'Writing to x.txt',
            kind: 'edit',
            status: 'in_progress',
            content: [],
          });
          await update(client, sessionId, {
            sessionUpdate: 'tool_call_update',
            toolCallId: 'call_g',
            status: word === 'edit' ? 'completed' : 'failed',
            content: [{ ...gemini, _meta: { kind: 'add' } }],
          });
          await text(client, sessionId, 'edited');
          return { stopReason: 'end_turn' };
        }
        case 'unknown':
          // A kind newer than any SDK: sent raw, as a future agent would.
          await client.notify('session/update', {
            sessionId,
            update: { sessionUpdate: 'hologram_update', beam: 3 },
          });
          await text(client, sessionId, 'still here');
          return { stopReason: 'end_turn' };
        case 'usage':
          await text(client, sessionId, 'counted');
          return {
            stopReason: 'end_turn',
            _meta: { quota: { token_count: { input_tokens: 120, output_tokens: 7 } } },
          };
        case 'tool':
        case 'toolhang': {
          await text(client, sessionId, 'I will run a command.');
          await update(client, sessionId, {
            sessionUpdate: 'tool_call',
            toolCallId: 'call_1',
            title: 'Terminal',
            kind: 'execute',
            status: 'pending',
            rawInput: {},
            _meta: { claudeCode: { toolName: 'Bash' } },
          });
          await update(client, sessionId, {
            sessionUpdate: 'tool_call',
            toolCallId: 'call_1',
            title: '`echo hi`',
            kind: 'execute',
            status: 'pending',
            rawInput: { command: 'echo hi' },
            _meta: { claudeCode: { toolName: 'Bash' } },
          });
          if (word === 'toolhang') {
            await update(client, sessionId, {
              sessionUpdate: 'tool_call_update',
              toolCallId: 'call_1',
              status: 'in_progress',
            });
            await waitCancel(sessionId);
            return { stopReason: 'cancelled' };
          }
          await update(client, sessionId, {
            sessionUpdate: 'tool_call_update',
            toolCallId: 'call_1',
            status: 'completed',
            rawOutput: 'hi',
            content: [{ type: 'content', content: { type: 'text', text: 'hi' } }],
          });
          await text(client, sessionId, 'The command printed hi.');
          return { stopReason: 'end_turn' };
        }
        case 'permission': {
          const answer = await client.request(methods.client.session.requestPermission, {
            sessionId,
            toolCall: {
              toolCallId: 'call_w',
              title: 'Writing to a.txt',
              kind: 'edit',
              status: 'pending',
              locations: [{ path: '/work/a.txt' }],
              rawInput: { file_path: '/work/a.txt', content: 'x' },
            },
            options: [
              { optionId: 'proceed_always', name: 'Allow for this session', kind: 'allow_always' },
              { optionId: 'proceed_once', name: 'Allow', kind: 'allow_once' },
              { optionId: 'cancel', name: 'Reject', kind: 'reject_once' },
            ],
          });
          note('permission-answer', answer);
          if (answer.outcome.outcome === 'cancelled') return { stopReason: 'cancelled' };
          const allowed = answer.outcome.optionId !== 'cancel';
          await update(client, sessionId, {
            sessionUpdate: 'tool_call_update',
            toolCallId: 'call_w',
            status: allowed ? 'completed' : 'failed',
            rawOutput: allowed ? `wrote (${answer.outcome.optionId})` : 'User refused permission',
          });
          await text(client, sessionId, allowed ? 'Written.' : 'Not written.');
          return { stopReason: 'end_turn' };
        }
        default:
          await update(client, sessionId, {
            sessionUpdate: 'agent_message_chunk',
            content: { type: 'text', text: '' },
          });
          await text(client, sessionId, 'Hello ');
          await text(client, sessionId, 'there.');
          return { stopReason: 'end_turn' };
      }
    });
}
