import {
  PERMISSION_DECISIONS,
  ValidationError,
  describeError,
  emptyUsage,
  silentLogger,
  validateRequest,
  type AgentEvent,
  type AgentRequestInput,
  type AgentResult,
  type AgentRun,
  type CodeAgent,
  type Logger,
  type PermissionDecision,
} from '@forge/core';
import { ApiError } from './api-error.js';
import type { WebhookChannel, WebhookDispatcherPort } from './webhook-port.js';

export interface RunManagerOptions {
  logger?: Logger;
  /** Events of one run kept for late SSE readers; the oldest go first. Default 2,000. */
  bufferEvents?: number;
  /** How long a finished run stays readable. Default 60 s. */
  lingerMs?: number;
  webhooks?: WebhookDispatcherPort;
}

export interface StartRunInput {
  userId: string;
  agentId: string;
  agent: CodeAgent;
  request: AgentRequestInput;
  webhook?: { url: string; secret?: string };
}

type Listener = (event: AgentEvent) => void;

/** Per-request state, kept only while the run is live plus a short linger. No conversation is stored. */
export class LiveRun {
  readonly events: AgentEvent[] = [];
  readonly pendingPermissions = new Set<string>();
  readonly pendingQuestions = new Set<string>();
  /** Questions answered (or being answered) while the run lives: a second answer is a conflict, not a miss. */
  readonly answeredQuestions = new Set<string>();
  readonly listeners = new Set<Listener>();
  result: AgentResult | undefined;
  pumped!: Promise<void>;

  constructor(
    readonly requestId: string,
    readonly userId: string,
    readonly agentId: string,
    readonly run: AgentRun,
    readonly channel: WebhookChannel | undefined,
  ) {}

  get done(): boolean {
    return this.result !== undefined;
  }

  /** Buffered events after `afterSeq`, and a subscription to the ones still to come (none once done). */
  subscribe(afterSeq: number, listener: Listener): { backlog: AgentEvent[]; unsubscribe: () => void } {
    const backlog = this.events.filter((e) => e.seq > afterSeq);
    if (this.done) return { backlog, unsubscribe: () => {} };
    this.listeners.add(listener);
    return { backlog, unsubscribe: () => this.listeners.delete(listener) };
  }
}

function failedBeforeStart(runId: string, provider: string, error: unknown): AgentEvent {
  return {
    type: 'run.completed',
    runId,
    seq: 1,
    time: Date.now(),
    provider,
    result: { status: 'failed', text: '', usage: emptyUsage(), durationMs: 0, turns: 0, error: describeError(error) },
  };
}

/** The key of an agent's one live run. */
const slotOf = (userId: string, agentId: string) => `${userId}/${agentId}`;

const requestIdOf = () => `req_${globalThis.crypto.randomUUID().replaceAll('-', '')}`;

/**
 * Starts runs and keeps what a live run needs: its handle (interrupt, permission replies), a
 * bounded event buffer for SSE readers, and its webhook channel.
 */
export class RunManager {
  readonly #runs = new Map<string, LiveRun>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #starting = new Set<string>();
  /** The live run of each `user/agent` (one at a time), so lookups do not scan every run. */
  readonly #live = new Map<string, LiveRun>();
  readonly #logger: Logger;
  readonly #bufferEvents: number;
  readonly #lingerMs: number;
  readonly #webhooks: WebhookDispatcherPort | undefined;
  #closed = false;

  constructor(options: RunManagerOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#bufferEvents = options.bufferEvents ?? 2_000;
    this.#lingerMs = options.lingerMs ?? 60_000;
    this.#webhooks = options.webhooks;
  }

  /** Validates, opens the webhook channel and starts the run; returns as soon as it has started. */
  async start(input: StartRunInput): Promise<LiveRun> {
    if (this.#closed) throw new ApiError(503, 'SHUTTING_DOWN', 'The platform is shutting down');
    const request = validateRequest(input.request);
    if (this.liveRun(input.userId, input.agentId)) {
      throw new ApiError(
        409,
        'AGENT_BUSY',
        `Agent ${input.agentId} is already running a message; interrupt it or wait for it to finish`,
      );
    }
    const slot = slotOf(input.userId, input.agentId);
    // Held while the webhook channel opens, so two messages racing cannot both start.
    if (this.#starting.has(slot))
      throw new ApiError(409, 'AGENT_BUSY', `Agent ${input.agentId} is already starting a message`);
    if (input.webhook && !this.#webhooks)
      throw new ApiError(400, 'WEBHOOKS_DISABLED', 'Webhooks are not enabled on this platform');
    const requestId = requestIdOf();
    this.#starting.add(slot);
    let channel: WebhookChannel | undefined;
    let run: AgentRun;
    try {
      channel = input.webhook
        ? await this.#webhooks!.open({
            url: input.webhook.url,
            ...(input.webhook.secret !== undefined ? { secret: input.webhook.secret } : {}),
            agentId: input.agentId,
            requestId,
          })
        : undefined;
      run = input.agent.execute(request, { runId: requestId });
    } catch (error) {
      // The channel is open but no run will feed it: close it the way every run ends, with one run.completed.
      channel?.send(failedBeforeStart(requestId, input.agent.provider, error));
      throw error;
    } finally {
      this.#starting.delete(slot);
    }
    const live = new LiveRun(requestId, input.userId, input.agentId, run, channel);
    this.#runs.set(requestId, live);
    this.#live.set(slot, live);
    this.#logger.info('run started', {
      requestId,
      agentId: input.agentId,
      userId: input.userId,
      provider: run.provider,
      webhook: channel !== undefined,
    });
    live.pumped = this.#pump(live);
    return live;
  }

  async #pump(live: LiveRun): Promise<void> {
    try {
      for await (const event of live.run) {
        live.events.push(event);
        if (live.events.length > this.#bufferEvents) live.events.shift();
        if (event.type === 'permission.requested') live.pendingPermissions.add(event.id);
        if (event.type === 'question.requested') live.pendingQuestions.add(event.id);
        if (event.type === 'run.completed') live.result = event.result;
        live.channel?.send(event);
        for (const listener of live.listeners) {
          try {
            listener(event);
          } catch (error) {
            // One broken reader must not cost the others (or the webhook) their events.
            live.listeners.delete(listener);
            this.#logger.warn('event reader failed', { requestId: live.requestId, error: String(error) });
          }
        }
      }
    } catch (error) {
      // Core guarantees a run.completed; reaching here means the iteration itself broke.
      this.#logger.error('run stream failed', { requestId: live.requestId, error: String(error) });
    } finally {
      live.result ??= await live.run.result.catch(() => undefined);
      const slot = slotOf(live.userId, live.agentId);
      if (this.#live.get(slot) === live) this.#live.delete(slot);
      live.listeners.clear();
      live.pendingPermissions.clear();
      live.pendingQuestions.clear();
      this.#logger.info('run completed', {
        requestId: live.requestId,
        agentId: live.agentId,
        status: live.result?.status,
        durationMs: live.result?.durationMs,
        ...(live.result?.error ? { error: live.result.error.code } : {}),
      });
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#runs.delete(live.requestId);
      }, this.#lingerMs);
      timer.unref();
      this.#timers.add(timer);
    }
  }

  /** The user's run (live or lingering); undefined for another user's, so ids do not leak. */
  get(userId: string, requestId: string): LiveRun | undefined {
    const live = this.#runs.get(requestId);
    return live && live.userId === userId ? live : undefined;
  }

  /** The agent's live run: an agent runs one message at a time. */
  liveRun(userId: string, agentId: string): LiveRun | undefined {
    const live = this.#live.get(slotOf(userId, agentId));
    return live && !live.done ? live : undefined;
  }

  /** Cancels the agent's live run (only if it is the one named, when one is) and waits for it to end. */
  async interrupt(userId: string, agentId: string, requestId?: string): Promise<LiveRun[]> {
    const live = this.liveRun(userId, agentId);
    if (!live || (requestId !== undefined && live.requestId !== requestId)) return [];
    await live.run.cancel('interrupted through the API');
    await live.pumped;
    return [live];
  }

  async respond(
    userId: string,
    agentId: string,
    permissionId: string,
    decision: unknown,
    message?: string,
  ): Promise<LiveRun> {
    if (typeof decision !== 'string' || !PERMISSION_DECISIONS.includes(decision as PermissionDecision)) {
      throw new ValidationError('INVALID_DECISION', `decision must be one of ${PERMISSION_DECISIONS.join(', ')}`, [
        { path: 'decision', code: 'INVALID_DECISION', message: `got ${JSON.stringify(decision)}` },
      ]);
    }
    const live = this.liveRun(userId, agentId);
    if (!live?.pendingPermissions.has(permissionId))
      throw new ApiError(
        404,
        'PERMISSION_NOT_FOUND',
        `No run of agent ${agentId} is waiting on permission ${permissionId}`,
      );
    await live.run.respond(permissionId, decision as PermissionDecision, message);
    live.pendingPermissions.delete(permissionId);
    return live;
  }

  /** Answers a question of the agent's live run: one array of labels (or typed text) per question, checked by core. */
  async answer(userId: string, agentId: string, questionId: string, answers: unknown): Promise<LiveRun> {
    const shaped =
      Array.isArray(answers) && answers.every((a) => Array.isArray(a) && a.every((item) => typeof item === 'string'));
    if (!shaped) {
      throw new ValidationError('INVALID_ANSWER', 'answers must be an array with one array of strings per question', [
        { path: 'answers', code: 'INVALID_ANSWER', message: `got ${JSON.stringify(answers)?.slice(0, 200)}` },
      ]);
    }
    const live = this.liveRun(userId, agentId);
    if (live?.answeredQuestions.has(questionId))
      throw new ApiError(409, 'QUESTION_ANSWERED', `Question ${questionId} has already been answered`);
    if (!live?.pendingQuestions.has(questionId))
      throw new ApiError(404, 'QUESTION_NOT_FOUND', `No run of agent ${agentId} is waiting on question ${questionId}`);
    live.answeredQuestions.add(questionId);
    try {
      await live.run.answer(questionId, answers as string[][]);
    } catch (error) {
      live.answeredQuestions.delete(questionId);
      throw error;
    }
    live.pendingQuestions.delete(questionId);
    return live;
  }

  /** Cancels every live run and waits for runs, and (up to `flushMs`) their webhook deliveries, to finish. */
  async close(flushMs = 5_000): Promise<void> {
    this.#closed = true;
    const runs = [...this.#runs.values()];
    await Promise.all(runs.filter((r) => !r.done).map((r) => r.run.cancel('the platform is shutting down')));
    await Promise.all(runs.map((r) => r.pumped));
    const channels = runs.map((r) => r.channel?.done).filter((d) => d !== undefined);
    if (channels.length) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(channels),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, flushMs))),
      ]);
      clearTimeout(timer);
    }
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#runs.clear();
  }
}
