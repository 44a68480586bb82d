import {
  ValidationError,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
  type ProviderRegistry,
} from '@forge/core';
import type { capabilitiesFromProto } from '@forge/transport-grpc/internal';
import type { AgentHubOptions } from './agent-hub-options.js';
import { SessionGrants } from '@forge/transport-grpc/internal';
import type { AgentInfo } from './agent-info.js';
import { memoryAgentPresence, type AgentPresence, type HeldSession, type PresenceRecord } from './agent-presence.js';
import { AgentRecords } from './agent-records.js';
import type { AgentSession } from './agent-session.js';
import type { AgentRecord, CredentialStore } from './credential-store.js';
import { DialledAgent } from './dialled-agent.js';
import { checkSecret } from './enrolment-token.js';
import { Subscriptions } from './subscriptions.js';

/** What the hub knows of one enrolled agent it has seen: its platform-side CodeAgent and its session. */
export interface HubEntry {
  dialled: DialledAgent;
  session?: AgentSession;
  /** The session as recorded in the presence store; `recorded` once that write has landed. */
  held?: HeldSession & { recorded: boolean };
  /** This agent's presence writes, one after the other. */
  presenceChain?: Promise<unknown>;
  provider?: string;
  version?: string;
  capabilities?: ReturnType<typeof capabilitiesFromProto>;
  lastSeen?: number;
  registered: boolean;
}

/**
 * What the parts of one hub share (enrolment, sessions, the Attach stream): its settings, the agent
 * records, the subscriptions and the entry of every agent seen. One per `createAgentHub` call.
 */
export class HubState {
  readonly secret: ReturnType<typeof checkSecret>;
  readonly store: CredentialStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly heartbeatMs: number;
  readonly missed: number;
  readonly ttlMs: number;
  readonly stopGraceMs: number;
  readonly callTimeoutMs: number;
  readonly maxBufferedEvents: number;
  /** Answers the agents' session calls from the hub's session store, if it has one. */
  readonly sessions: SessionGrants | undefined;
  readonly registry: ProviderRegistry | undefined;
  readonly records: AgentRecords;
  readonly presence: AgentPresence;
  readonly presenceSyncMs: number;
  /** How stale an open session's credential check may be (see AgentHubOptions.credentialCheckMs). */
  readonly credentialCheckMs: number;
  /** Presence writes not yet landed (close waits for them). */
  readonly presenceWrites = new Set<Promise<unknown>>();
  readonly subscriptions: Subscriptions;
  /** By agent id. */
  readonly entries = new Map<string, HubEntry>();
  closed = false;

  constructor(options: AgentHubOptions) {
    this.secret = checkSecret(options.secret);
    this.store = options.credentialStore;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.heartbeatMs = options.heartbeatMs ?? 30_000;
    this.missed = options.missedHeartbeats ?? 3;
    this.ttlMs = options.enrolmentTtlMs ?? 3_600_000;
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.maxBufferedEvents = options.maxBufferedEvents ?? 100_000;
    this.sessions = options.sessionStore ? new SessionGrants(options.sessionStore, this.logger) : undefined;
    this.registry = options.registry;
    const { heartbeatMs, missed } = this;
    if (!(heartbeatMs > 0) || !(missed >= 1)) {
      throw new ValidationError('INVALID_HEARTBEAT', 'heartbeatMs must be positive and missedHeartbeats at least 1', [
        { path: 'heartbeatMs', code: 'INVALID_HEARTBEAT', message: `${heartbeatMs} / ${missed}` },
      ]);
    }
    this.records = new AgentRecords(this.store, this.logger);
    this.presence = options.presence ?? memoryAgentPresence();
    this.presenceSyncMs = options.presenceSyncMs ?? Math.min(heartbeatMs, 2_000);
    this.credentialCheckMs = options.credentialCheckMs ?? Math.min(heartbeatMs, 1_000);
    if (!(this.credentialCheckMs >= 0)) {
      throw new ValidationError('INVALID_CREDENTIAL_CHECK', 'credentialCheckMs must be 0 or more', [
        { path: 'credentialCheckMs', code: 'INVALID_CREDENTIAL_CHECK', message: String(this.credentialCheckMs) },
      ]);
    }
    this.subscriptions = new Subscriptions(this.logger);
  }

  entryFor(record: Pick<AgentRecord, 'agentId' | 'name'>): HubEntry {
    let entry = this.entries.get(record.agentId);
    if (!entry) {
      entry = {
        dialled: new DialledAgent({
          agentId: record.agentId,
          name: record.name,
          clock: this.clock,
          stopGraceMs: this.stopGraceMs,
          maxBufferedEvents: this.maxBufferedEvents,
          ...(this.sessions ? { sessions: this.sessions } : {}),
        }),
        registered: false,
      };
      this.entries.set(record.agentId, entry);
    }
    return entry;
  }

  /** Runs `write` after the entry's earlier presence writes have settled. */
  inOrder(entry: HubEntry, write: () => Promise<void>): Promise<void> {
    const next = (entry.presenceChain ?? Promise.resolve()).then(write);
    entry.presenceChain = next.catch(() => {});
    return next;
  }

  /** Runs a presence write in the background: logged when it fails, awaited by `close`. */
  track(write: Promise<unknown>, what: string, agentId: string): void {
    const p = write
      .catch((error: unknown) => this.logger.warn(`could not record ${what}`, { agentId, error: String(error) }))
      .finally(() => this.presenceWrites.delete(p));
    this.presenceWrites.add(p);
  }
}

/**
 * One agent as this hub lists it: online when it holds the session, or when the presence store
 * says another live hub does; last seen the newest of what this hub saw and what was recorded.
 */
export function infoOf(record: AgentRecord, entry: HubEntry | undefined, presence?: PresenceRecord): AgentInfo {
  const info: AgentInfo = {
    id: record.agentId,
    name: entry?.dialled.name ?? record.name,
    status: entry?.session || presence?.online ? 'online' : 'offline',
    runsInFlight: entry?.dialled.runsInFlight ?? 0,
    enrolledAt: record.enrolledAt,
    registered: entry?.registered ?? false,
  };
  const provider = entry?.provider ?? record.provider;
  const version = entry?.version ?? record.version;
  const seen = [entry?.session?.lastSeen, entry?.lastSeen, record.lastSeen, presence?.lastSeen].filter(
    (t): t is number => t !== undefined,
  );
  const lastSeen = seen.length ? Math.max(...seen) : undefined;
  if (provider !== undefined) info.provider = provider;
  if (version !== undefined) info.version = version;
  if (lastSeen !== undefined) info.lastSeen = lastSeen;
  if (entry?.capabilities) info.capabilities = entry.capabilities;
  return info;
}
