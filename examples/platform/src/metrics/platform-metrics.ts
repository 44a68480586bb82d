import type { AgentEvent } from '@forge/core';
import type { RunRecord } from '@forge/store';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunObserver, RunWatch } from '../runs/run-observer.js';

/** Where the gauges that are read rather than counted come from (asked at each scrape). */
export interface MetricsSources {
  /** Queued runs in the store (every replica's queue: one figure). */
  queueDepth?: () => Promise<number>;
  /** The backend's agents, every user's: only their backend kind and state are kept. */
  agents?: () => Promise<Array<{ backend: string; state: string }>>;
  /** Remote agents connected to any replica. */
  remoteAgentsOnline?: () => Promise<number>;
}

/** Agents' states as the dashboard names them (agentState): every one is exported, 0 included. */
const AGENT_STATES = ['ready', 'starting', 'gone'];
/** A run: seconds to an hour and more. */
const RUN_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1_800, 3_600];
/** Waiting, first events, webhook deliveries, pods starting. */
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** One store operation. */
const QUERY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The label a provider name gets: a name registered at start, or one of a few fixed words. */
export const OTHER_PROVIDER = 'other';

/**
 * The platform's Prometheus metrics, in a registry of its own (never prom-client's global one), so two platforms
 * in one process count apart. Labels come from fixed sets only: statuses, outcomes, operation names, backend kinds,
 * and provider names registered when the platform started (anything else, such as a remote agent's name, is
 * counted as `other`); never a user, agent or request id.
 */
export class PlatformMetrics implements RunObserver {
  readonly registry = new Registry();
  readonly #providers = new Set<string>();
  #sources: MetricsSources = {};
  readonly #now: () => number;

  readonly runsTotal: Counter<'provider' | 'status'>;
  readonly runDuration: Histogram<'provider'>;
  readonly runFirstEvent: Histogram<'provider'>;
  readonly queueWait: Histogram;
  readonly webhookDeliveries: Counter<'outcome'>;
  readonly webhookDelivery: Histogram;
  readonly sseReaders: Gauge;
  readonly podReady: Histogram;
  readonly storeQuery: Histogram<'op'>;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    const registers = [this.registry];
    const sources = () => this.#sources;
    // The counters and histograms differ only in name, help, labels and buckets: one call each below.
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    const histogram = <L extends string = never>(name: string, help: string, buckets: number[], labelNames: L[] = []) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers });
    this.runsTotal = counter(
      'forge_runs_total',
      'Runs executed by this replica that ended, by provider and final status',
      ['provider', 'status'],
    );
    this.runDuration = histogram(
      'forge_run_duration_seconds',
      'Run duration as its result reports it, by provider',
      RUN_BUCKETS,
      ['provider'],
    );
    this.runFirstEvent = histogram(
      'forge_run_first_event_seconds',
      'From a run starting on its agent to its first event, by provider',
      WAIT_BUCKETS,
      ['provider'],
    );
    new Gauge({
      name: 'forge_queue_depth',
      help: 'Runs queued in the store, every replica’s',
      registers,
      async collect() {
        const read = sources().queueDepth;
        if (read) this.set(await read().catch(() => Number.NaN));
      },
    });
    this.queueWait = histogram(
      'forge_queue_wait_seconds',
      'From a run being queued to a replica claiming it (runs claimed by this replica)',
      WAIT_BUCKETS,
    );
    this.webhookDeliveries = counter(
      'forge_webhook_deliveries_total',
      'Webhook events settled by this replica: delivered (2xx), rejected (refused for good), failed (given up)',
      ['outcome'],
    );
    this.webhookDelivery = histogram(
      'forge_webhook_delivery_seconds',
      'From a webhook event being handed to delivery to its receiver settling it, retries included',
      WAIT_BUCKETS,
    );
    this.sseReaders = new Gauge({
      name: 'forge_sse_readers',
      help: 'Open Server-Sent Events streams of run events on this replica',
      registers,
    });
    new Gauge({
      name: 'forge_agents',
      help: 'Agents the backend holds, every user’s, by backend and state',
      labelNames: ['backend', 'state'],
      registers,
      async collect() {
        const read = sources().agents;
        if (!read) return;
        const agents = await read().catch(() => undefined);
        this.reset();
        if (!agents) return;
        const counts = new Map<string, Map<string, number>>();
        for (const a of agents) {
          const byState = counts.get(a.backend) ?? new Map(AGENT_STATES.map((s) => [s, 0]));
          const state = AGENT_STATES.includes(a.state) ? a.state : 'gone';
          byState.set(state, (byState.get(state) ?? 0) + 1);
          counts.set(a.backend, byState);
        }
        for (const [backend, byState] of counts) for (const [state, n] of byState) this.set({ backend, state }, n);
      },
    });
    new Gauge({
      name: 'forge_remote_agents_online',
      help: 'Remote (dial-home) agents connected to any replica',
      registers,
      async collect() {
        const read = sources().remoteAgentsOnline;
        this.set(read ? await read().catch(() => Number.NaN) : 0);
      },
    });
    this.podReady = histogram(
      'forge_pod_ready_seconds',
      'From an agent pod being created to it being ready (k8s backend)',
      WAIT_BUCKETS,
    );
    this.storeQuery = histogram(
      'forge_store_query_seconds',
      'Store operations, by operation (runs.claimNext, keySpend.add…)',
      QUERY_BUCKETS,
      ['op'],
    );
  }

  /** The provider names labels may carry: the registry's at start. */
  setProviders(names: Iterable<string>): void {
    for (const n of names) this.#providers.add(n);
  }

  setSources(sources: MetricsSources): void {
    this.#sources = sources;
  }

  providerLabel(name: string): string {
    return this.#providers.has(name) ? name : OTHER_PROVIDER;
  }

  started(record: RunRecord, provider: string): RunWatch {
    const label = this.providerLabel(provider);
    const startedAt = this.#now();
    if (record.startedAt !== undefined) this.queueWait.observe(Math.max(0, record.startedAt - record.createdAt) / 1000);
    let first = true;
    return {
      event: (event: AgentEvent) => {
        if (!first || event.type === 'run.completed') return;
        first = false;
        this.runFirstEvent.observe({ provider: label }, Math.max(0, this.#now() - startedAt) / 1000);
      },
      settled: (result) => {
        if (!result) return;
        this.runsTotal.inc({ provider: label, status: result.status });
        const ms = result.durationMs ?? this.#now() - startedAt;
        this.runDuration.observe({ provider: label }, Math.max(0, ms) / 1000);
      },
    };
  }

  /** Counts an open SSE stream; call what it returns when the stream ends. */
  sseReader(): () => void {
    this.sseReaders.inc();
    let open = true;
    return () => {
      if (open) this.sseReaders.dec();
      open = false;
    };
  }

  /** Times `work` as store operation `op` (a fixed name, never built from input). */
  async timeQuery<T>(op: string, work: () => Promise<T>): Promise<T> {
    const end = this.storeQuery.startTimer({ op });
    try {
      return await work();
    } finally {
      end();
    }
  }

  /** The exposition, in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
