import { silentLogger, type Logger } from '@forge/core';
import type { PodManager, PodSummary } from '@forge/k8s';
import type { ParkedAgents } from '@forge/store';
import { podAnnotations } from './k8s-backend.js';

/** What the reaper asks the store of one agent. */
export interface AgentActivity {
  /** A run is running or queued: its pod is never reaped. */
  busy: boolean;
  /** Epoch ms of its latest run's last change (created, started or finished); undefined: it never ran. */
  lastRunAt?: number;
}

export interface PodReaperOptions {
  pods: Pick<PodManager, 'listAllPods' | 'reapOrphans'>;
  parked: Pick<ParkedAgents, 'park' | 'remove'>;
  activity(userId: string, agentId: string): Promise<AgentActivity>;
  /** A pod without a run for this long is removed (its agent parked); undefined: only dead pods are. */
  idleTtlMs?: number;
  /** How often `sweep` runs once started. */
  intervalMs: number;
  /** The pod manager's label prefix. Default `forge.dev`. */
  labelPrefix?: string;
  now?: () => number;
  logger?: Logger;
}

export interface SweepResult {
  /** Pods removed (their agents parked first, so they stay listed and come back at their next message). */
  reaped: PodSummary[];
}

const key = (p: { userId: string; agentId: string }) => `${p.userId}/${p.agentId}`;

/**
 * The k8s backend's janitor, on a timer (FORGE_K8S_REAP_INTERVAL_MS): `@forge/k8s`'s `reapOrphans` removes dead pods
 * (Failed, Succeeded) and the pods of agents idle past FORGE_K8S_IDLE_TTL. Each agent is parked in the store before
 * its pod goes, so it stays listed and its next message makes a new pod; busyness is asked again right before each
 * delete, so a run that started meanwhile keeps its pod. Every replica may run it: parking is an upsert and a
 * delete of a pod already gone is no error.
 */
export class PodReaper {
  private timer: ReturnType<typeof setInterval> | undefined;
  private sweeping: Promise<SweepResult> | undefined;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly keys: ReturnType<typeof podAnnotations>;

  constructor(private readonly options: PodReaperOptions) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.keys = podAnnotations(options.labelPrefix);
  }

  start(): this {
    if (this.timer) return this;
    this.timer = setInterval(() => {
      void this.sweep().catch((error: unknown) => this.logger.warn('reaping pods failed', { error: String(error) }));
    }, this.options.intervalMs);
    // The timer must not keep the process alive: close() stops it, and an exit without close is fine too.
    this.timer.unref();
    return this;
  }

  /** One pass; concurrent calls share it. */
  sweep(): Promise<SweepResult> {
    this.sweeping ??= this.pass().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async pass(): Promise<SweepResult> {
    const { pods, parked, activity, idleTtlMs } = this.options;
    const at = this.now();
    const candidates = new Map<string, PodSummary>();
    for (const pod of await pods.listAllPods()) {
      if (pod.deletingSince) continue;
      const dead = pod.phase === 'Failed' || pod.phase === 'Succeeded';
      let idle = false;
      if (!dead && idleTtlMs !== undefined) {
        const a = await activity(pod.userId, pod.agentId);
        const since = Math.max(pod.createdAt?.getTime() ?? 0, a.lastRunAt ?? 0);
        idle = !a.busy && at - since > idleTtlMs;
      }
      if (dead || idle) candidates.set(key(pod), pod);
    }
    if (candidates.size === 0) return { reaped: [] };
    for (const pod of candidates.values()) await parked.park(this.parkedOf(pod, at));
    const reaped = await pods.reapOrphans({
      // Asked right before each delete: a run that started since the pass began keeps its pod.
      isAlive: async (pod) => {
        if (!candidates.has(key(pod))) return true;
        if (pod.phase === 'Failed' || pod.phase === 'Succeeded') return false;
        if (!(await activity(pod.userId, pod.agentId)).busy) return false;
        await parked.remove(pod.userId, pod.agentId);
        return true;
      },
    });
    for (const pod of reaped)
      this.logger.info('agent pod reaped', {
        userId: pod.userId,
        agentId: pod.agentId,
        pod: pod.name,
        reason: pod.phase === 'Failed' || pod.phase === 'Succeeded' ? `pod ${pod.phase}` : 'idle',
      });
    return { reaped };
  }

  private parkedOf(pod: PodSummary, at: number) {
    const created = Number(pod.annotations[this.keys.createdAt]);
    const image = pod.annotations[this.keys.image];
    return {
      userId: pod.userId,
      agentId: pod.agentId,
      provider: pod.annotations[this.keys.provider] ?? 'grpc',
      ...(image ? { image } : {}),
      createdAt: Number.isFinite(created) && created > 0 ? created : (pod.createdAt?.getTime() ?? at),
      parkedAt: at,
    };
  }

  /** Stops the timer and waits for a pass under way. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping?.catch(() => {});
  }
}
