import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface AttachTicket {
  ticket: string;
  userId: string;
  agentId: string;
  session: string;
  expiresAt: number;
  /** The issued key that asked for it (`bootstrap` for an environment key): the audit log's actor. */
  keyId?: string;
}

/**
 * Short-lived, single-use tickets for the attach WebSocket: browsers cannot set an Authorization
 * header on one, and an API key in a URL would end up in logs. Bound to a user and an agent.
 */
export class AttachTickets {
  readonly #tickets = new Map<string, AttachTicket>();

  constructor(
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
    /** Outstanding tickets one user may hold (each is cheap, but the map must stay bounded). */
    private readonly maxPerUser = 50,
  ) {}

  issue(userId: string, agentId: string, session: string, keyId?: string): AttachTicket | undefined {
    this.#sweep();
    let mine = 0;
    for (const t of this.#tickets.values()) if (t.userId === userId) mine++;
    if (mine >= this.maxPerUser) return undefined;
    const ticket = `atk_${randomBytes(32).toString('base64url')}`;
    const issued = {
      ticket,
      userId,
      agentId,
      session,
      expiresAt: this.now() + this.ttlMs,
      ...(keyId !== undefined ? { keyId } : {}),
    };
    this.#tickets.set(ticket, issued);
    return issued;
  }

  /** The ticket's binding, once: a second use, or one after expiry, finds nothing. */
  redeem(ticket: string, agentId: string): AttachTicket | undefined {
    this.#sweep();
    const found = this.#tickets.get(ticket);
    if (!found) return undefined;
    this.#tickets.delete(ticket);
    // The map lookup already matched the whole ticket; the agent is compared in constant time anyway.
    const a = Buffer.from(found.agentId);
    const b = Buffer.from(agentId);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    return found;
  }

  #sweep(): void {
    const now = this.now();
    for (const [k, t] of this.#tickets) if (t.expiresAt <= now) this.#tickets.delete(k);
  }
}
