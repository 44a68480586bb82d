import { silentLogger, type AgentEvent, type Logger } from '@forge/core';
import { compilePattern, type SubjectMatcher } from './subject.js';
import type { AgentInfo } from './agent-info.js';

/** What the hub publishes, under `subject`. */
export type HubMessage =
  | {
      subject: string;
      type: 'online' | 'offline' | 'revoked';
      agentId: string;
      time: number;
      agent: AgentInfo;
      reason?: string;
    }
  | { subject: string; type: 'heartbeat'; agentId: string; time: number; runsInFlight: number }
  | { subject: string; type: 'event'; agentId: string; runId: string; time: number; event: AgentEvent };

export type HubMessageHandler = (message: HubMessage) => void;

interface Subscription {
  pattern: string;
  matches: SubjectMatcher;
  handler: HubMessageHandler;
}

/**
 * In-process subject routing. A handler is called synchronously, in publish order; one that
 * throws is logged and does not stop the others (or the hub).
 */
export class Subscriptions {
  private readonly subs = new Set<Subscription>();

  constructor(private readonly logger: Logger = silentLogger) {}

  get size(): number {
    return this.subs.size;
  }

  /** Returns the unsubscribe function. Throws ValidationError for a malformed pattern. */
  subscribe(pattern: string, handler: HubMessageHandler): () => void {
    const sub: Subscription = { pattern, matches: compilePattern(pattern), handler };
    this.subs.add(sub);
    return () => void this.subs.delete(sub);
  }

  /** Whether anyone listens to `subject` (so publishers can skip building messages). */
  wants(subject: string): boolean {
    for (const s of this.subs) if (s.matches(subject)) return true;
    return false;
  }

  publish(message: HubMessage): void {
    for (const s of [...this.subs]) {
      if (!s.matches(message.subject)) continue;
      try {
        s.handler(message);
      } catch (error) {
        this.logger.error('a subscription handler threw', {
          pattern: s.pattern,
          subject: message.subject,
          error: String(error),
        });
      }
    }
  }
}
