/** One agent session as the hub holding it records it. */
export interface HeldSession {
  agentId: string;
  /** Unique per Attach stream: a newer session of the same agent, on any hub, replaces it. */
  sessionId: string;
  /** Epoch ms when the session opened. */
  since: number;
  /** Epoch ms of the agent's last message. */
  lastSeen: number;
}

/** What every hub sharing a presence store knows of one agent's session. */
export interface PresenceRecord {
  agentId: string;
  /** A session is recorded and the hub holding it is alive. */
  online: boolean;
  /** The holding hub (its instance id), while online. */
  holder?: string;
  /** Epoch ms; while online. */
  since?: number;
  /** Epoch ms of the last message recorded (with the granularity of the hub's presence sync). */
  lastSeen?: number;
}

/** A session the presence store says must end where it is held. */
export interface SessionVerdict {
  agentId: string;
  sessionId: string;
  /** `revoked`: its credential was revoked (by any hub); `replaced`: a newer session holds the agent elsewhere. */
  reason: 'revoked' | 'replaced';
}

/**
 * Where a hub records which agent sessions it holds, so that hubs sharing one store (platform
 * replicas on one database) agree on who is online, with what last-seen time, and where. The
 * default, `memoryAgentPresence()`, is this process's only, which is all one hub needs.
 */
export interface AgentPresence {
  /** This hub holds the session now; it replaces whatever session of the agent was recorded (the newest wins). */
  open(session: HeldSession): Promise<void>;
  /** The session ended; does nothing when a newer session of the agent replaced it meanwhile. */
  close(session: HeldSession): Promise<void>;
  /**
   * Called every `presenceSyncMs` with every session this hub holds: records their last-seen times
   * (one write for all of them, which is the throttle) and answers those that must end here.
   */
  sync(sessions: readonly HeldSession[]): Promise<SessionVerdict[]>;
  /** Every recorded session, by agent id; an agent without an entry is offline. */
  list(): Promise<Map<string, PresenceRecord>>;
}

/**
 * Presence in this process's memory: every hub given the same value shares it (a newer session on
 * one replaces the other's). Revocations are not its business here: `hub.revoke` ends a session
 * of its own hub at once, and any other process's revocation at the agent's next message.
 */
export function memoryAgentPresence(): AgentPresence {
  const sessions = new Map<string, HeldSession>();
  return {
    async open(session) {
      sessions.set(session.agentId, { ...session });
    },
    async close(session) {
      if (sessions.get(session.agentId)?.sessionId === session.sessionId) sessions.delete(session.agentId);
    },
    async sync(held) {
      const verdicts: SessionVerdict[] = [];
      for (const s of held) {
        const recorded = sessions.get(s.agentId);
        if (recorded?.sessionId === s.sessionId) recorded.lastSeen = Math.max(recorded.lastSeen, s.lastSeen);
        else verdicts.push({ agentId: s.agentId, sessionId: s.sessionId, reason: 'replaced' });
      }
      return verdicts;
    },
    async list() {
      return new Map(
        [...sessions.values()].map((s) => [
          s.agentId,
          { agentId: s.agentId, online: true, since: s.since, lastSeen: s.lastSeen },
        ]),
      );
    },
  };
}
