import { isAbsolute, resolve } from 'node:path';
import {
  type AnyMessage,
  type ClientCapabilities,
  methods,
  type PromptResponse,
  type RequestPermissionResponse,
} from '@agentclientprotocol/sdk';
import {
  type AgentCapabilities,
  type AgentEventInit,
  type CodeAgent,
  createCodeAgent,
  ForgeError,
  localProcessRunner,
  NotFoundError,
  type RunContext,
  type RunOutcome,
  silentLogger,
  UnsupportedError,
  ValidationError,
} from '@forge/core';
import { quietFor, untilAborted, untilAbortedPlus } from './abortable-wait.js';
import type { AcpAgentOptions } from './agent-options.js';
import { AgentProcess, asForgeError, type PermissionRequestParams, type SessionSink } from './agent-process.js';
import { ACP_ERROR_CODES, stopReasonCode } from './errors.js';
import { localFileSystem } from './file-system.js';
import { promptUsage, SessionUpdateMapper, toolInput, toolName, type SessionNotificationParams } from './mapper.js';
import { ACP_PROBED_CAPABILITIES, acpDeclaredCapabilities } from './declared-capabilities.js';
import { pickPermissionOption } from './permissions.js';
import { mcpServersKey, sessionMcpServers } from './mcp-servers.js';
import { promptBlocks } from './prompt.js';
import { applyMode, applyModel, type SessionState } from './session-settings.js';

export type { AcpAgentOptions };

export const ACP_PROVIDER = 'acp';

const DEFAULT_CAPS: ClientCapabilities = { fs: { readTextFile: false, writeTextFile: false }, terminal: false };

/**
 * Any Agent Client Protocol agent as a CodeAgent, spoken through the official
 * `@agentclientprotocol/sdk`. One agent process serves every run (one ACP session per
 * conversation); it starts on first use, is started again by the next run after it died, and
 * `close()` ends it.
 */
export function acpAgent(options: AcpAgentOptions): CodeAgent {
  const {
    command,
    args = [],
    env,
    inheritEnv,
    passEnv,
    cwd,
    runner = localProcessRunner(),
    name = ACP_PROVIDER,
    clientCapabilities = DEFAULT_CAPS,
    fileSystem,
    mcpServers = [],
    model,
    permissionMode,
    modes = {},
    resumeWith = 'auto',
    loadReplayQuietMs = 0,
    authMethodId,
    initializeTimeoutMs = 60_000,
    closeGraceMs = 2_000,
    cancelWaitMs = 5_000,
    stderrTailChars = 4_000,
    clientInfo = { name: 'forge', version: '0.1.0' },
    ...runOptions
  } = options;
  if (!command) {
    throw new ValidationError('INVALID_OPTIONS', 'acpAgent() needs a command', [
      { path: 'command', code: 'INVALID_OPTIONS', message: 'required' },
    ]);
  }
  const logger = runOptions.logger ?? silentLogger;
  const stderrListeners = new Set<(line: string) => void>();
  const sessionStates = new Map<string, SessionState>();
  const sessionCwds = new Map<string, string>();
  /** The MCP servers each session was opened with (ACP gives a session its servers when it opens it). */
  const sessionMcp = new Map<string, string>();
  let current: Promise<AgentProcess> | undefined;
  let closed = false;
  let lastModels: string[] = [];

  const processOptions = {
    runner,
    command,
    args,
    env,
    inheritEnv,
    passEnv,
    cwd,
    clientCapabilities,
    clientInfo,
    fileSystem:
      fileSystem ??
      (clientCapabilities.fs?.readTextFile || clientCapabilities.fs?.writeTextFile
        ? // Each session may touch its own directory only.
          localFileSystem({ root: (sessionId) => sessionCwds.get(sessionId) })
        : undefined),
    initializeTimeoutMs,
    closeGraceMs,
    stderrTailChars,
    logger,
    authMethodId,
    onStderr: (line: string) => {
      logger.debug('acp agent stderr', { line });
      for (const listener of stderrListeners) listener(line);
    },
  };

  /** The live agent process, started (again) when there is none. */
  const agentProcess = async (): Promise<AgentProcess> => {
    if (closed) throw new ForgeError(ACP_ERROR_CODES.agentClosed, `this ${name} agent has been closed`, 'conflict');
    const existing = current && (await current.catch(() => undefined));
    if (existing?.alive) return existing;
    if (current && existing === undefined) {
      // A start that failed is not cached: try again.
    }
    const starting = AgentProcess.start(processOptions);
    current = starting;
    starting.catch(() => {
      if (current === starting) current = undefined;
    });
    const started = await starting;
    if (closed) {
      await started.close();
      throw new ForgeError(ACP_ERROR_CODES.agentClosed, `this ${name} agent has been closed`, 'conflict');
    }
    return started;
  };

  const capabilities = async (): Promise<AgentCapabilities> => {
    const caps: AgentCapabilities = { ...acpDeclaredCapabilities(), models: lastModels };
    try {
      const proc = await agentProcess();
      const init = proc.initialize;
      const agentCaps = init.agentCapabilities ?? {};
      caps.resume = Boolean(agentCaps.loadSession || agentCaps.sessionCapabilities?.resume);
      caps.images = Boolean(agentCaps.promptCapabilities?.image);
      caps.models = lastModels;
      if (init.agentInfo?.version) caps.version = init.agentInfo.version;
      caps.extra = {
        command,
        protocolVersion: init.protocolVersion,
        agentInfo: init.agentInfo ?? null,
        loadSession: Boolean(agentCaps.loadSession),
        sessionCapabilities: agentCaps.sessionCapabilities ?? {},
        promptCapabilities: agentCaps.promptCapabilities ?? {},
        mcpCapabilities: agentCaps.mcpCapabilities ?? {},
        authMethods: (init.authMethods ?? []).map((m) => m.id),
        clientCapabilities,
      };
    } catch (error) {
      caps.extra = { command, error: error instanceof Error ? error.message : String(error) };
    }
    return caps;
  };

  async function run(ctx: RunContext): Promise<RunOutcome> {
    const { request } = ctx;
    // systemPrompt, tool filters, maxTurns and a per-run env are refused by `execute` from the declaration.

    const proc = await untilAborted(agentProcess(), ctx.signal);
    if (!proc) return {};
    const agentCaps = proc.initialize.agentCapabilities ?? {};
    // What the agent's handshake cannot take is refused here, before any session is opened.
    const prompt = promptBlocks(name, request.prompt, request.attachments, agentCaps.promptCapabilities);
    const servers = sessionMcpServers(name, mcpServers, request.mcpServers, agentCaps.mcpCapabilities);
    const sessionCwd = resolveCwd(request.cwd ?? cwd);

    const mapper = new SessionUpdateMapper({ cwd: sessionCwd });
    const pending = new Map<
      string,
      { params: PermissionRequestParams; answer: (r: RequestPermissionResponse) => void }
    >();
    let permissionSeq = 0;
    let replaying = false;
    let lastReplayAt = 0;
    let replayed = 0;
    const emit = (event: AgentEventInit) => {
      ctx.emit(event);
    };
    const cancelPending = () => {
      for (const [id, p] of pending) {
        pending.delete(id);
        p.answer({ outcome: { outcome: 'cancelled' } });
      }
    };
    const sink: SessionSink = {
      update(params: SessionNotificationParams, raw: AnyMessage) {
        if (replaying) {
          replayed++;
          lastReplayAt = Date.now();
          return;
        }
        mapper.map(params, emit, raw);
      },
      permission(params, signal) {
        // A turn that is stopping takes no more tool calls: the protocol's answer is `cancelled`.
        if (ctx.signal.aborted || signal.aborted) return Promise.resolve({ outcome: { outcome: 'cancelled' } });
        const id = `perm_${++permissionSeq}_${params.toolCall.toolCallId}`;
        return new Promise<RequestPermissionResponse>((resolveAnswer) => {
          const answer = (r: RequestPermissionResponse) => {
            signal.removeEventListener('abort', onGone);
            resolveAnswer(r);
          };
          // The connection closed or the agent withdrew the request.
          const onGone = () => {
            if (pending.delete(id)) resolveAnswer({ outcome: { outcome: 'cancelled' } });
          };
          signal.addEventListener('abort', onGone, { once: true });
          pending.set(id, { params, answer });
          const raw = { jsonrpc: '2.0', method: methods.client.session.requestPermission, params };
          const call = mapper.permissionCall(params.toolCall, emit, raw);
          emit({ type: 'permission.requested', id, tool: toolName(call), input: toolInput(call), raw });
        });
      },
    };
    ctx.onRespond(async (permissionId, decision) => {
      const p = pending.get(permissionId);
      if (!p) {
        throw new NotFoundError('PERMISSION_NOT_FOUND', `No pending permission request ${permissionId} in this run`, {
          permissionId,
        });
      }
      const optionId = pickPermissionOption(p.params.options, decision);
      pending.delete(permissionId);
      p.answer({ outcome: { outcome: 'selected', optionId } });
    });

    // 1. The session: a new one, one this process already has, or one continued from an earlier process.
    const agent = proc.connection.agent;
    let sessionId: string;
    let state: SessionState;
    let claimed: string | undefined;
    const opened = !(request.sessionId && proc.sessions.has(request.sessionId));
    try {
      if (!opened) {
        sessionId = request.sessionId!;
        state = sessionStates.get(sessionId) ?? {};
        if (request.mcpServers?.length && sessionMcp.get(sessionId) !== mcpServersKey(servers)) {
          throw new UnsupportedError(
            name,
            `mcpServers other than the ones session ${sessionId} was opened with (ACP gives a session its MCP servers when it opens it)`,
            'UNSUPPORTED_FIELD',
            { fields: ['mcpServers'] },
          );
        }
        claimed = claim(proc, sessionId);
        proc.attach(sessionId, sink);
      } else if (request.sessionId) {
        sessionId = request.sessionId;
        const how = resumeMethod(agentCaps, resumeWith);
        if (!how) {
          throw new UnsupportedError(
            name,
            'resuming a session (the agent offers neither session/load nor session/resume in a new process)',
          );
        }
        claimed = claim(proc, sessionId);
        proc.attach(sessionId, sink);
        sessionCwds.set(sessionId, sessionCwd);
        const params = { sessionId, cwd: sessionCwd, mcpServers: servers };
        if (how === 'resume') {
          state = (await agent.request(methods.agent.session.resume, params)) as SessionState;
        } else {
          // History comes back as updates; they are the earlier runs' events, not this run's.
          replaying = true;
          try {
            state = (await agent.request(methods.agent.session.load, params)) as SessionState;
            if (loadReplayQuietMs > 0) await quietFor(() => lastReplayAt, loadReplayQuietMs, ctx.signal);
          } finally {
            replaying = false;
          }
          if (replayed)
            emit({ type: 'log', level: 'debug', text: `session/load replayed ${replayed} history updates` });
        }
        proc.sessions.add(sessionId);
      } else {
        const created = await agent.request(methods.agent.session.new, { cwd: sessionCwd, mcpServers: servers });
        sessionId = created.sessionId;
        state = created as SessionState;
        proc.sessions.add(sessionId);
        claimed = claim(proc, sessionId);
        proc.attach(sessionId, sink);
      }
    } catch (error) {
      // Release only what this run took: a busy session belongs to the run that has it.
      if (claimed) {
        proc.busy.delete(claimed);
        proc.detach(claimed, sink);
      }
      throw await asForgeError(proc, error, request.sessionId ? 'session/load' : 'session/new');
    }
    sessionStates.set(sessionId, state);
    sessionCwds.set(sessionId, sessionCwd);
    if (opened) sessionMcp.set(sessionId, mcpServersKey(servers));
    if (state.models?.availableModels) lastModels = state.models.availableModels.map((m) => m.modelId);

    const stderrListener = (line: string) => ctx.emit({ type: 'log', level: 'debug', stream: 'stderr', text: line });
    stderrListeners.add(stderrListener);
    const onAbort = () => {
      // Cancel the turn, and answer what the agent is still waiting for: Gemini finishes a cancelled
      // turn only once its permission request is answered.
      void agent.notify(methods.agent.session.cancel, { sessionId }).catch(() => undefined);
      cancelPending();
    };
    try {
      ctx.emit({
        type: 'session.started',
        sessionId,
        cwd: sessionCwd,
        ...(state.models?.currentModelId ? { model: state.models.currentModelId } : {}),
        ...(state.modes?.currentModeId ? { permissionMode: state.modes.currentModeId } : {}),
      });
      if (ctx.signal.aborted) return { sessionId };

      // 2. Mode and model, where the request (or the options) asks for them.
      await applyMode(proc, sessionId, state, request.permissionMode ?? permissionMode, { name, modes });
      await applyModel(proc, sessionId, state, request.model ?? model, name);
      if (ctx.signal.aborted) return { sessionId };

      // 3. The turn.
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let response: PromptResponse;
      try {
        const prompting = agent.request(methods.agent.session.prompt, { sessionId, prompt });
        const answered = await untilAbortedPlus(prompting, ctx.signal, cancelWaitMs);
        if (!answered) {
          // The agent ignored session/cancel: the run ends without it, and the session is freed.
          logger.warn('acp: the agent did not end a cancelled turn', { sessionId, cancelWaitMs });
          mapper.finish(emit);
          return { sessionId, ...changedFiles(mapper) };
        }
        response = answered.value;
      } catch (error) {
        mapper.finish(emit);
        throw await asForgeError(proc, error, 'session/prompt');
      }
      mapper.finish(emit);
      const usage = promptUsage(response);
      if (usage) ctx.emit({ type: 'usage', usage, raw: response });
      const outcome: RunOutcome = {
        sessionId,
        turns: 1,
        raw: response,
        ...(usage ? { usage } : {}),
        ...changedFiles(mapper),
      };
      switch (response.stopReason) {
        case 'end_turn':
          return { ...outcome, status: 'completed' };
        case 'cancelled':
          // Core reports a run it stopped as cancelled / timed_out; one the agent cancelled by itself failed.
          return {
            ...outcome,
            status: 'failed',
            error: { code: 'CANCELLED_BY_AGENT', message: 'The agent cancelled the turn' },
          };
        default:
          return {
            ...outcome,
            status: 'failed',
            error: {
              code: stopReasonCode(String(response.stopReason)),
              message: `The agent stopped: ${response.stopReason}`,
            },
          };
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      cancelPending();
      stderrListeners.delete(stderrListener);
      proc.detach(sessionId, sink);
      proc.busy.delete(sessionId);
    }
  }

  function claim(proc: AgentProcess, sessionId: string): string {
    if (proc.busy.has(sessionId)) {
      throw new ForgeError(ACP_ERROR_CODES.sessionBusy, `Session ${sessionId} is in use by another run`, 'conflict', {
        details: { sessionId },
      });
    }
    proc.busy.add(sessionId);
    return sessionId;
  }

  return createCodeAgent({
    ...runOptions,
    provider: name,
    declared: acpDeclaredCapabilities(),
    probed: ACP_PROBED_CAPABILITIES,
    capabilities,
    run,
    async close() {
      closed = true;
      const proc = current && (await current.catch(() => undefined));
      current = undefined;
      await proc?.close();
    },
  });
}

function resumeMethod(
  caps: { loadSession?: boolean; sessionCapabilities?: { resume?: unknown } | null },
  prefer: 'auto' | 'load' | 'resume',
): 'load' | 'resume' | undefined {
  const canResume = Boolean(caps.sessionCapabilities?.resume);
  const canLoad = Boolean(caps.loadSession);
  if (prefer === 'load') return canLoad ? 'load' : undefined;
  if (prefer === 'resume') return canResume ? 'resume' : undefined;
  return canResume ? 'resume' : canLoad ? 'load' : undefined;
}

/** `filesChanged` for the outcome, where the turn changed any. */
function changedFiles(mapper: SessionUpdateMapper): Pick<RunOutcome, 'filesChanged'> {
  const files = mapper.filesChanged();
  return files.length ? { filesChanged: files } : {};
}

function resolveCwd(dir: string | undefined): string {
  // ACP wants absolute paths.
  return dir === undefined ? process.cwd() : isAbsolute(dir) ? dir : resolve(dir);
}
