import { silentLogger, type AgentRequestInput, type Logger } from '@forge/core';
import type { PrewarmableAgent, SpareHandle } from './prewarmable-agent.js';

export interface SpareKeeperOptions {
  /** Spares on this instance at most (FORGE_PREWARM_MAX); 0 keeps none. */
  max: number;
  /** A spare nobody took in this long is ended (FORGE_PREWARM_IDLE_MS). */
  idleMs: number;
  logger?: Logger;
}

/** A session's options that shape its process: the request without what only its first message carries. */
export type SpareRequest = Omit<AgentRequestInput, 'prompt' | 'attachments' | 'sessionId' | 'fork'>;

interface Held {
  config: string;
  spare: SpareHandle;
}

/** Deleted agents remembered, so a run that ends after its agent's deletion starts no spare for it. */
const FORGOTTEN_MAX = 10_000;

/**
 * One spare process per active agent configuration (an agent, with the options its next new session would run
 * with), at most `max` on the instance: the least recently active agent's spare is ended first. An agent is
 * active when it is created or a run starts or ends on it; a spare lives until a new session takes it, `idleMs`
 * pass, its agent is deleted, or the keeper closes. Starting and ending processes is the agent's
 * (`agent.prewarm`, e.g. claude-code's); this only decides which configurations hold one.
 */
export class SpareKeeper {
  /** By agent key, least recently active first (a Map keeps insertion order; a touch re-inserts). */
  private readonly held = new Map<string, Held>();
  private readonly forgotten = new Set<string>();
  private closed = false;
  private readonly logger: Logger;

  constructor(private readonly options: SpareKeeperOptions) {
    if (!Number.isInteger(options.max) || options.max < 0)
      throw new RangeError(`max must be a non-negative integer, got ${options.max}`);
    if (!(options.idleMs > 0)) throw new RangeError(`idleMs must be positive, got ${options.idleMs}`);
    this.logger = options.logger ?? silentLogger;
  }

  /** Spares held now (ready or starting). */
  get size(): number {
    return this.held.size;
  }

  has(key: string): boolean {
    return this.held.has(key);
  }

  /**
   * Keeps one spare for `key` shaped by `request` on `agent`: the one held if it has the same configuration,
   * else a new one (the old one ended). The least recently active spare beyond `max` is ended.
   */
  keep(key: string, agent: PrewarmableAgent, request: SpareRequest): void {
    if (this.closed || this.options.max === 0 || this.forgotten.has(key)) return;
    const { prompt: _p, attachments: _a, sessionId: _s, fork: _f, ...rest } = request as AgentRequestInput;
    const config = JSON.stringify(rest);
    const current = this.held.get(key);
    if (current?.config === config) {
      this.touch(key);
      return;
    }
    current?.spare.release();
    this.held.delete(key);
    let spare: SpareHandle;
    try {
      spare = agent.prewarm(rest, { idleMs: this.options.idleMs });
    } catch (error) {
      this.logger.warn('could not prewarm a spare for an agent', { agent: key, error: String(error) });
      return;
    }
    const entry: Held = { config, spare };
    this.held.set(key, entry);
    // Taken by a session, idle, dead: the slot is free (the next activity asks again).
    void spare.ended.then((why) => {
      if (this.held.get(key) === entry) this.held.delete(key);
      this.logger.debug('agent spare over', { agent: key, why });
    });
    for (const [oldest, held] of this.held) {
      if (this.held.size <= this.options.max) break;
      held.spare.release();
      this.held.delete(oldest);
    }
  }

  /** `key` is active: its spare is the last one evicted. */
  touch(key: string): void {
    const held = this.held.get(key);
    if (!held) return;
    this.held.delete(key);
    this.held.set(key, held);
  }

  /** The agent is gone: its spare ends and none is started for it again. */
  forget(key: string): void {
    this.forgotten.add(key);
    if (this.forgotten.size > FORGOTTEN_MAX) this.forgotten.delete(this.forgotten.values().next().value as string);
    this.held.get(key)?.spare.release();
    this.held.delete(key);
  }

  /** Ends every spare and keeps none from now on (drain, shutdown). */
  close(): void {
    this.closed = true;
    for (const held of this.held.values()) held.spare.release();
    this.held.clear();
  }
}
