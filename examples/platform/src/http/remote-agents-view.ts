import type { IssuedToken } from '../remote-agents.js';

/** What the API asks of the dial-home hub: listing, revoking and issuing enrolment tokens. */
export interface RemoteAgentsView {
  list(): Promise<Array<Record<string, unknown>>>;
  /** Revokes by name or id; undefined when there is no such (unrevoked) agent. */
  revoke(nameOrId: string): Promise<Record<string, unknown> | undefined>;
  issueToken(options?: { name?: string; ttlMs?: number }): IssuedToken;
}
