import { replacedEnd, revokedEnd } from './session-ends.js';
import { randomUUID } from 'node:crypto';
import { capabilitiesFromProto } from '@forge/transport-grpc/internal';
import type { HeldSession } from './agent-presence.js';
import type { AgentSession, SessionEnd } from './agent-session.js';
import { Code, ConnectError, refuse } from './connect-errors.js';
import type { AgentRecord } from './credential-store.js';
import { DialHomeCodes } from './errors.js';
import type { Hello } from './gen/forge/dialhome/v1/dialhome_pb.js';
import { infoOf, type HubEntry, type HubState } from './hub-state.js';
import { subjects } from './subject.js';

/**
 * The hub's sessions: an agent going online on its Hello (one session per agent, one agent per name),
 * offline when its session ends, its registry entry following, the heartbeat sweep that ends
 * silent sessions, and the presence store kept up to date (and obeyed) for hubs that share it.
 */
export function hubSessions(state: HubState) {
  const { entries, records, subscriptions, clock, logger, heartbeatMs, missed, presence } = state;

  // Synchronous, like the registry itself: nothing can register or unregister between the checks
  // in open() and these changes, so a quick reconnect needs no ordering of its own.
  function register(entry: HubEntry): void {
    if (!state.registry || entry.registered || !entry.session) return;
    state.registry.register(entry.dialled.name, entry.dialled);
    entry.registered = true;
  }

  function unregister(entry: HubEntry): void {
    if (!state.registry || !entry.registered) return;
    entry.registered = false;
    // Only if the name still holds this agent: the host may have replaced it meanwhile.
    state.registry.unregister(entry.dialled.name, entry.dialled);
  }

  /** A Hello arrived: checks the name, replaces an older session of the same agent, goes online. */
  async function open(record: AgentRecord, session: AgentSession, hello: Hello): Promise<HubEntry> {
    const name = hello.name;
    if (name !== record.name) {
      // The credential speaks for the name it was enrolled under, nothing else: announcing another
      // would rename this agent, or take over another agent's registry entry and its runs.
      throw refuse(
        Code.PermissionDenied,
        DialHomeCodes.IDENTITY_MISMATCH,
        `This credential belongs to agent "${record.name}", not "${name}"`,
        { agentId: record.agentId, name },
      );
    }
    for (const other of entries.values()) {
      if (other.session && other.dialled.agentId !== record.agentId && other.dialled.name === name) {
        throw refuse(
          Code.AlreadyExists,
          DialHomeCodes.NAME_TAKEN,
          `Another online agent (${other.dialled.agentId}) is named "${name}"`,
          { name },
        );
      }
    }
    const entry = state.entryFor(record);
    const registry = state.registry;
    if (registry?.has(name) && !(entry.registered && entry.dialled.name === name)) {
      throw refuse(
        Code.AlreadyExists,
        DialHomeCodes.NAME_TAKEN,
        `The platform already has a provider named "${name}"`,
        { name },
      );
    }
    if (entry.session) {
      // The same credential connected again while the old session looks alive: the new one wins
      // and the agent stays online (the old session's end does not take it offline). If the old
      // connection was still in use, another process holds this credential; it is told so.
      const old = entry.session;
      entry.session = undefined;
      entry.dialled.disconnect(old);
      old.end(replacedEnd(record.agentId, 'the agent connected again'));
    }
    if (entry.registered && entry.dialled.name !== name) unregister(entry);
    const capabilities = capabilitiesFromProto(hello.capabilities);
    entry.session = session;
    entry.provider = hello.provider;
    entry.version = hello.version;
    entry.capabilities = capabilities;
    entry.dialled.connect(session, {
      name,
      provider: hello.provider || 'dial-home',
      capabilities,
      protocolRevision: hello.capabilities?.protocolRevision ?? 0,
      terminals: hello.terminals,
      handover: hello.handover,
      detachedRuns: hello.detachedRuns,
    });
    session.onEnd((end) => void close(entry, session, end));
    register(entry);
    const held = { agentId: record.agentId, sessionId: randomUUID(), since: clock.now(), lastSeen: session.lastSeen };
    entry.held = { ...held, recorded: false };
    const recording = entry.held;
    const provided = records.update(record.agentId, (r) => ({
      ...r,
      provider: hello.provider,
      version: hello.version,
      lastSeen: clock.now(),
    }));
    // In order with this agent's other presence writes (a quick reconnect's, this session's end), and
    // after its provider is written, so no replica lists the agent online without it.
    const opened = state.inOrder(entry, async () => {
      await provided;
      await presence.open(held);
    });
    try {
      await opened;
      recording.recorded = true;
    } catch (error) {
      // Unrecorded, the other replicas would take the agent for offline and never send it their runs.
      logger.warn('could not record the session; ending it', { agentId: record.agentId, error: String(error) });
      const refusal = new ConnectError('The platform could not record the session; try again', Code.Unavailable);
      session.end({ reason: 'broken', message: 'the session could not be recorded', error: refusal });
      throw refusal;
    }
    // It ended while being recorded (its close is recorded after the open): it never went online.
    if (entry.session !== session) return entry;
    logger.info('agent online', { agentId: record.agentId, name, provider: hello.provider, version: hello.version });
    subscriptions.publish({
      subject: subjects.online(record.agentId),
      type: 'online',
      agentId: record.agentId,
      time: clock.now(),
      agent: infoOf(record, entry),
    });
    return entry;
  }

  async function close(entry: HubEntry, session: AgentSession, end: SessionEnd): Promise<void> {
    if (entry.session !== session) return;
    entry.session = undefined;
    entry.lastSeen = session.lastSeen;
    const held = entry.held;
    entry.held = undefined;
    if (held) {
      const ended = { ...held, lastSeen: session.lastSeen };
      const closing = state.inOrder(entry, () => presence.close(ended));
      // Left recorded, the agent would look online everywhere while this hub lives: the next sync tries again.
      state.track(
        closing.catch((error: unknown) => {
          unclosed.set(ended.sessionId, ended);
          throw error;
        }),
        'the session end',
        held.agentId,
      );
    }
    entry.dialled.disconnect(session);
    unregister(entry);
    const agentId = entry.dialled.agentId;
    logger.info('agent offline', { agentId, name: entry.dialled.name, reason: end.reason, message: end.message });
    // Never back in time: another replica may hold a newer session of this agent by now.
    const record = await records.update(agentId, (r) => ({
      ...r,
      lastSeen: Math.max(r.lastSeen ?? 0, session.lastSeen),
    }));
    const info = record
      ? infoOf(record, entry)
      : infoOf({ agentId, name: entry.dialled.name, credentialHash: '', enrolledAt: 0 }, entry);
    subscriptions.publish({
      subject: end.reason === 'revoked' ? subjects.revoked(agentId) : subjects.offline(agentId),
      type: end.reason === 'revoked' ? 'revoked' : 'offline',
      agentId,
      time: clock.now(),
      agent: info,
      reason: end.message,
    });
  }

  function sweepHeartbeats(): void {
    const now = clock.now();
    for (const entry of entries.values()) {
      const s = entry.session;
      if (s && now - s.lastSeen > heartbeatMs * missed) {
        logger.warn('agent missed its heartbeats', {
          agentId: entry.dialled.agentId,
          lastSeen: s.lastSeen,
          heartbeatMs,
          missed,
        });
        s.end({
          reason: 'heartbeat',
          message: `no message for ${now - s.lastSeen} ms (${missed} heartbeats of ${heartbeatMs} ms missed)`,
          error: refuse(
            Code.DeadlineExceeded,
            DialHomeCodes.HEARTBEAT_LOST,
            'Heartbeats missed; the platform takes this agent for offline',
          ),
        });
      }
    }
  }

  let syncing = false;
  let lastSync = Number.NEGATIVE_INFINITY;
  /** Session ends whose recording failed, by session id (a close is a no-op once a newer session holds the agent). */
  const unclosed = new Map<string, HeldSession>();

  /**
   * Every presenceSyncMs: writes the held sessions' last-seen times (one call for all of them) and
   * ends those the store says are revoked or held by a newer session elsewhere. Only sessions whose
   * opening was recorded take part, so a sync never judges one still being written.
   */
  async function syncPresence(): Promise<void> {
    const now = clock.now();
    if (syncing || now - lastSync < state.presenceSyncMs) return;
    syncing = true;
    lastSync = now;
    try {
      for (const [sessionId, ended] of unclosed) {
        await presence.close(ended);
        unclosed.delete(sessionId);
      }
      const held = [];
      for (const entry of entries.values()) {
        if (!entry.session || !entry.held?.recorded) continue;
        entry.held.lastSeen = entry.session.lastSeen;
        const { agentId, sessionId, since, lastSeen } = entry.held;
        held.push({ agentId, sessionId, since, lastSeen });
      }
      if (!held.length) return;
      for (const verdict of await presence.sync(held)) {
        const entry = entries.get(verdict.agentId);
        if (!entry?.session || entry.held?.sessionId !== verdict.sessionId) continue;
        const { agentId } = verdict;
        logger.info('presence: ending a session held here', { agentId, reason: verdict.reason });
        entry.session.end(
          verdict.reason === 'revoked'
            ? revokedEnd(agentId)
            : replacedEnd(agentId, 'the agent connected to another platform instance'),
        );
      }
    } catch (error) {
      logger.warn('presence sync failed', { error: String(error) });
    } finally {
      syncing = false;
    }
  }

  return { open, close, register, unregister, sweepHeartbeats, syncPresence };
}
