import {
  ForgeError,
  TransportError,
  UnsupportedError,
  UnsupportedFieldError,
  defaultCapabilities,
  randomId,
  validateRequest,
  refuseUnsupportedFields,
  relayDeclaration,
  type Declaration,
  NotFoundError,
  type AgentCapabilities,
  type AgentRequest,
  type AgentRequestInput,
  type AgentRun,
  type AttachOptions,
  type AttachedProcess,
  type Clock,
  type CodeAgent,
  type ExecuteOptions,
  type IdGenerator,
  RunExistsError,
} from '@forge/core';
import type { AttachOptions as RunAttachOptions } from '@forge/transport-grpc';
import {
  attachedRunGrants,
  attachedRunStart,
  detachedRunEnd,
  fieldsBeyondRevision,
  SESSION_STORE_REVISION,
  type SessionGrants,
} from '@forge/transport-grpc/internal';
import { DialHomeCodes } from './errors.js';
import { TerminalSupport } from './gen/forge/dialhome/v1/dialhome_pb.js';
import { RelayedRun, type RelayedRunOptions, type RunLink } from '@forge/core/internal';

/** How a dialled agent opens terminals over the session it is attached through. */
export interface TerminalCarrier {
  openTerminal(options: AttachOptions, outputWindow: number): Promise<AttachedProcess>;
}

/** What a dialled agent needs from the session it is attached through. */
export interface RunCarrier extends RunLink, Partial<TerminalCarrier> {
  /** With `sessions`, the run's session calls are answered there (the execute command says so). */
  start(run: RelayedRun, request: AgentRequest, sessions?: SessionGrants): void;
  /** Takes up a run the agent kept going detached, after `afterSeq` (AttachCommand). */
  attachRun(run: RelayedRun, afterSeq: number, sessions?: SessionGrants): void;
  /** Lets a run go on at the agent without this link; resolves once the agent acknowledged (DetachCommand). */
  detach(runId: string): Promise<void>;
  answer(runId: string, questionId: string, answers: string[][]): Promise<void>;
  steer(runId: string, text: string): Promise<void>;
}

export interface DialledAgentOptions {
  agentId: string;
  name: string;
  clock: Clock;
  stopGraceMs: number;
  maxBufferedEvents: number;
  /** The hub's session store, answering the agent's session calls for its runs. */
  sessions?: SessionGrants;
  idGenerator?: IdGenerator;
}

/**
 * The platform-side CodeAgent of one enrolled agent. It outlives connections: while the agent
 * is online its runs go over the current session; while it is offline, `execute` returns a run
 * that ends at once as failed with the retryable AGENT_OFFLINE, so a host holding on to it
 * gets a clear answer rather than a hang.
 */
export class DialledAgent implements CodeAgent {
  /** The remote agent decides what its wire carries; what the link cannot carry is refused here. */
  readonly declared: Declaration = relayDeclaration();
  readonly agentId: string;
  private carrier: RunCarrier | undefined;
  private providerName: string;
  private caps: AgentCapabilities = defaultCapabilities();
  /** The attached agent's `protocol_revision`: which request fields its side of the link reads. */
  private protocolRevision = 0;
  private terminals: TerminalSupport = TerminalSupport.UNSPECIFIED;
  /** Whether the connected agent program keeps detached runs going (its Hello said so). */
  private handover = false;
  /** Runs the connected agent keeps going detached (its Hello), by id, with their last seq: this host may attach them. */
  private announced = new Map<string, number>();
  private readonly live = new Map<string, RelayedRun>();
  private readonly nextId: IdGenerator;
  name: string;

  constructor(private readonly options: DialledAgentOptions) {
    this.agentId = options.agentId;
    this.name = options.name;
    this.providerName = 'dial-home';
    this.nextId = options.idGenerator ?? randomId;
  }

  /** The provider the agent announced (e.g. "claude-code"): its events keep it. */
  get provider(): string {
    return this.providerName;
  }

  get online(): boolean {
    return this.carrier !== undefined;
  }

  get runsInFlight(): number {
    return this.live.size;
  }

  /** A session opened: what the agent announced, and where its runs go from now on. */
  connect(
    carrier: RunCarrier,
    hello: {
      name: string;
      provider: string;
      capabilities: AgentCapabilities;
      protocolRevision: number;
      terminals?: TerminalSupport;
      handover?: boolean;
      detachedRuns?: ReadonlyArray<{ runId: string; lastSeq: number }>;
    },
  ): void {
    this.terminals = hello.terminals ?? TerminalSupport.UNSPECIFIED;
    this.handover = hello.handover ?? false;
    this.announced = new Map((hello.detachedRuns ?? []).map((r) => [r.runId, r.lastSeq]));
    this.carrier = carrier;
    this.name = hello.name;
    this.providerName = hello.provider;
    this.caps = hello.capabilities;
    this.protocolRevision = hello.protocolRevision;
  }

  /** The session ended. Its runs were ended by the session itself. */
  disconnect(carrier: RunCarrier): void {
    if (this.carrier !== carrier) return;
    this.carrier = undefined;
    this.announced.clear();
  }

  /** Whether `attach` can take up this run here now: the agent is connected here and announced it detached. */
  canAttach(runId: string): boolean {
    return this.carrier !== undefined && this.announced.has(runId) && !this.live.has(runId);
  }

  /**
   * Lets a live run go on at the agent without this host (a platform instance stopping in a rolling restart): once
   * the agent has acknowledged, the run ends here RUN_DETACHED (not its end: the agent keeps it going, buffered,
   * announces it to whichever instance it dials next, and that one `attach`es it). Rejects (nothing changed) when
   * the run is not live here, the agent is offline or its program is older than handover.
   */
  async detach(runId: string): Promise<void> {
    const run = this.live.get(runId);
    if (!run) throw new NotFoundError('RUN_NOT_FOUND', `No run ${runId} is live here`, { runId });
    const carrier = this.carrier;
    if (!carrier)
      throw new TransportError(DialHomeCodes.OFFLINE, `Agent "${this.name}" is offline`, {
        details: { agentId: this.agentId },
      });
    if (!this.handover)
      throw new UnsupportedError(this.provider, 'handing runs over (the agent program is older than it)');
    await carrier.detach(runId);
    run.endLocally(detachedRunEnd('another platform instance', 'the remote agent'));
  }

  /**
   * Takes up a run the connected agent announced detached, from after `afterSeq` (the last event this host has);
   * `pending` are the permission requests and questions up to it still waiting, so replies to them are taken.
   * `request` (its sessionId and fork) decides which sessions its session calls may reach here. A run the agent
   * does not hold (any more) ends failed RUN_NOT_FOUND.
   */
  attach(runId: string, options: RunAttachOptions): AgentRun {
    if (this.live.has(runId)) throw new RunExistsError(runId);
    const carrier = this.carrier;
    const run = this.relayedRun(runId, carrier, attachedRunStart(options));
    if (run.ended) return run;
    if (!carrier || !this.announced.has(runId)) {
      run.endLocally({
        status: 'failed',
        code: 'RUN_NOT_FOUND',
        message: `Agent "${this.name}" holds no detached run ${runId} here`,
        errorEvent: { retryable: true, details: { category: 'transport', agentId: this.agentId } },
      });
      return run;
    }
    this.announced.delete(runId);
    this.options.sessions?.open(runId, attachedRunGrants(options));
    carrier.attachRun(run, options.afterSeq, this.options.sessions);
    return run;
  }

  async capabilities(): Promise<AgentCapabilities> {
    return { ...this.caps, models: [...this.caps.models] };
  }

  execute(input: AgentRequestInput, options: ExecuteOptions = {}): AgentRun {
    const request = validateRequest(input);
    refuseUnsupportedFields(this.provider, request, this.declared);
    // An agent program older than these fields would drop them unread; refused here, before any run.
    const beyond = this.carrier ? fieldsBeyondRevision(request, this.protocolRevision) : [];
    if (beyond.length > 0) throw new UnsupportedFieldError(this.provider, beyond);
    // Its sessions would stay on its machine unseen: an agent program older than session calls is refused here.
    if (this.carrier && this.options.sessions && this.protocolRevision < SESSION_STORE_REVISION)
      throw new UnsupportedError(
        this.provider,
        `a session store: the agent program is older than session calls (protocol revision ${this.protocolRevision}, needs ${SESSION_STORE_REVISION}) and would leave the run's session behind`,
        'SESSION_STORE_UNSUPPORTED',
        { revision: this.protocolRevision },
      );
    // The agent said what it honours in its Hello (its capabilities() as probed there): a field it does not is
    // refused here, synchronously, as a local adapter refuses — not after a round trip as a failed run.
    if (this.carrier) refuseUnsupportedFields(this.provider, request, { capabilities: this.caps, probed: [] });
    const runId = options.runId ?? this.nextId();
    if (this.live.has(runId)) {
      throw new RunExistsError(runId);
    }
    const carrier = this.carrier;
    const run = this.relayedRun(runId, carrier, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
    });
    if (run.ended) return run;
    if (!carrier) {
      const e = new TransportError(DialHomeCodes.OFFLINE, `Agent "${this.name}" (${this.agentId}) is offline`, {
        details: { agentId: this.agentId },
      });
      run.endLocally({
        status: 'failed',
        code: e.code,
        message: e.message,
        errorEvent: { retryable: true, details: { category: 'transport', agentId: this.agentId } },
      });
      return run;
    }
    this.options.sessions?.open(runId, request);
    carrier.start(run, request, this.options.sessions);
    return run;
  }

  /** The carrier, except that an agent program older than steering is refused it here, saying so. */
  /**
   * A run of this agent relayed over `carrier` (none: the agent is offline, and the caller ends it at once), live
   * here until it ends. `started` says where it starts: a new run's deadline, or an attached run's last seq here.
   */
  private relayedRun(
    runId: string,
    carrier: RunCarrier | undefined,
    started: Pick<RelayedRunOptions, 'signal' | 'timeoutMs' | 'afterSeq' | 'pending'>,
  ): RelayedRun {
    const run = new RelayedRun({
      runId,
      provider: this.providerName,
      clock: this.options.clock,
      link: carrier ? this.linkOver(carrier) : { cancel: () => {}, respond: async () => {} },
      ...started,
      stopGraceMs: this.options.stopGraceMs,
      maxBufferedEvents: this.options.maxBufferedEvents,
      // No backpressure to the agent: its link also carries heartbeats and other runs, which one
      // slow reader must not stall; the buffer is bounded instead. Events keep the agent's provider.
      keepProvider: true,
      onEnd: (r) => {
        if (this.live.get(r.id) === r) this.live.delete(r.id);
        this.options.sessions?.close(r.id);
      },
    });
    if (!run.ended) this.live.set(runId, run);
    return run;
  }

  private linkOver(carrier: RunCarrier): RunLink {
    const revision = this.protocolRevision;
    const provider = this.providerName;
    return {
      cancel: (runId, reason) => carrier.cancel(runId, reason),
      respond: (runId, id, decision, message) => carrier.respond(runId, id, decision, message),
      answer: (runId, id, answers) => carrier.answer(runId, id, answers),
      steer: async (runId, text) => {
        if (revision < 1) throw new UnsupportedError(provider, 'steering (the agent program is older than it)');
        return carrier.steer(runId, text);
      },
    };
  }

  /**
   * A process in the agent's workspace (the platform's attach endpoint), over the live session.
   * Refused with AGENT_OFFLINE when the agent is not connected here, ATTACH_DISABLED when its
   * operator turned attach off, ATTACH_UNSUPPORTED when its program is older than terminals.
   */
  async openTerminal(options: AttachOptions = {}, outputWindow = 1024 * 1024): Promise<AttachedProcess> {
    const carrier = this.carrier;
    if (!carrier?.openTerminal) {
      throw new TransportError(DialHomeCodes.OFFLINE, `Agent "${this.name}" (${this.agentId}) is offline`, {
        details: { agentId: this.agentId },
      });
    }
    const details = { agentId: this.agentId, name: this.name };
    if (this.terminals === TerminalSupport.DISABLED)
      throw new ForgeError(
        DialHomeCodes.ATTACH_DISABLED,
        `Agent "${this.name}" does not allow attach: its operator turned it off`,
        'unsupported',
        { details },
      );
    if (this.terminals !== TerminalSupport.ENABLED)
      throw new ForgeError(
        DialHomeCodes.ATTACH_UNSUPPORTED,
        `Agent "${this.name}" runs a program older than attach; update it`,
        'unsupported',
        { details },
      );
    return carrier.openTerminal(options, outputWindow);
  }

  async cancel(runId: string): Promise<boolean> {
    const run = this.live.get(runId);
    if (!run) return false;
    await run.cancel();
    return true;
  }

  /** Cancels this agent's live runs; the agent stays connected (the hub owns the connection). */
  async close(): Promise<void> {
    await Promise.all([...this.live.values()].map((r) => r.cancel('the platform-side agent was closed')));
  }
}
