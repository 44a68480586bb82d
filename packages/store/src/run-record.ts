import { fromJsonColumn } from './json-column.js';
import type { Row } from './sql.js';

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timed_out';
export const FINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'timed_out'];

export interface RunWebhook {
  url: string;
  secret?: string;
  /** `native`: each delivery also carries the provider's native event. */
  payload?: 'native';
}

export interface RunRecord {
  requestId: string;
  userId: string;
  agentId: string;
  status: RunStatus;
  /** The validated request, as it will be (or was) executed. */
  request: Record<string, unknown>;
  webhook?: RunWebhook;
  result?: Record<string, unknown>;
  error?: Record<string, unknown>;
  /** The dial-home agent it runs on: claimed only by the instance holding that agent's session. */
  remoteAgentId?: string;
  /** The API key that sent it (its SHA-256, hex): its spend counts against that key. */
  keyId?: string;
  /** The instance running the run, or delivering its webhooks; none once everything is settled. */
  owner?: string;
  leaseUntil?: number;
  cancelRequested: boolean;
  eventCount: number;
  /** Queue order, global and increasing. */
  position: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Set while a stopping instance has handed the running run over: the next holder adopts it (re-attaches). */
  handedOverAt?: number;
}

export interface RunEnd {
  status: Exclude<RunStatus, 'queued' | 'running'>;
  result: Record<string, unknown>;
  error?: Record<string, unknown>;
  finishedAt: number;
  /** Give up ownership in the same transaction (nothing left to deliver). */
  release: boolean;
  /** What the run used: written to forge_run_usage in the statement that ends it (usage reports). */
  usage?: RunUsageFigures;
}

/** A finished run's usage as the usage report counts it. */
export interface RunUsageFigures {
  /** The provider name the run executed on. */
  provider: string;
  durationMs: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));

export function toRecord(row: Row): RunRecord {
  const r: RunRecord = {
    requestId: row.request_id as string,
    userId: row.user_id as string,
    agentId: row.agent_id as string,
    status: row.status as RunStatus,
    request: fromJsonColumn<Record<string, unknown>>(row.request) ?? {},
    cancelRequested: row.cancel_requested as boolean,
    eventCount: Number(row.event_count),
    position: Number(row.position),
    createdAt: Number(row.created_at),
  };
  const webhook = fromJsonColumn<RunWebhook>(row.webhook);
  if (webhook) r.webhook = webhook;
  const result = fromJsonColumn<Record<string, unknown>>(row.result);
  if (result) r.result = result;
  const error = fromJsonColumn<Record<string, unknown>>(row.error);
  if (error) r.error = error;
  if (row.owner) r.owner = row.owner as string;
  if (row.remote_agent_id) r.remoteAgentId = row.remote_agent_id as string;
  if (row.key_id) r.keyId = row.key_id as string;
  const lease = num(row.lease_until);
  if (lease !== undefined) r.leaseUntil = lease;
  const started = num(row.started_at);
  if (started !== undefined) r.startedAt = started;
  const finished = num(row.finished_at);
  if (finished !== undefined) r.finishedAt = finished;
  const handedOver = num(row.handed_over_at);
  if (handedOver !== undefined) r.handedOverAt = handedOver;
  return r;
}
