import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderRegistry, type CodeAgent, type ProviderRegistry } from '@forge/core';
import type { AgentHubOptions } from '../agent-hub-options.js';
import { createAgentHub, type AgentHub } from '../hub.js';
import type { HubServer } from '../hub-server.js';
import { memoryCredentialStore, type CredentialStore } from '../credential-store.js';
import { dialHome, type DialHome, type DialHomeOptions } from '../dial-home.js';
import type { AgentInfo } from '../agent-info.js';

export const SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** Everything a loopback test starts, and one `close` for all of it. */
export class Rig {
  readonly registry: ProviderRegistry = createProviderRegistry();
  readonly store: CredentialStore;
  hub!: AgentHub;
  server!: HubServer;
  dir!: string;
  private readonly agents: DialHome[] = [];
  private hubs: AgentHub[] = [];

  constructor(private readonly hubOptions: Partial<AgentHubOptions> = {}) {
    this.store = hubOptions.credentialStore ?? memoryCredentialStore();
  }

  async start(port = 0, store = this.store): Promise<this> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'forge-dial-home-'));
    this.hub = createAgentHub({
      secret: SECRET,
      heartbeatMs: 100,
      // Heartbeats every 100 ms, but a second of silence before offline: a loaded CI machine can stall the event loop for a few hundred ms.
      missedHeartbeats: 10,
      registry: this.registry,
      ...this.hubOptions,
      credentialStore: store,
    });
    this.hubs.push(this.hub);
    this.server = await this.hub.listen({ port });
    return this;
  }

  /** Closes the hub (and its server), as a platform that goes down. */
  async stopHub(): Promise<void> {
    await this.hub.close();
  }

  /** The platform restarts: the hub closes, and a new one serves the same port from `store`. */
  async restartHub(store = this.store): Promise<void> {
    const port = this.server.port;
    await this.hub.close();
    await this.start(port, store);
  }

  dial(name: string, agent: CodeAgent, extra: Partial<DialHomeOptions> = {}): DialHome {
    const d = dialHome({
      url: this.server.url,
      name,
      agent,
      credentialFile: join(this.dir, `${name}.json`),
      enrolmentToken: this.hub.issueEnrolmentToken().token,
      backoff: { initialMs: 20, maxMs: 200 },
      connectTimeoutMs: 5_000,
      ...extra,
    });
    this.agents.push(d);
    return d;
  }

  async waitFor(predicate: (agents: AgentInfo[]) => boolean, what: string, timeoutMs = 10_000): Promise<AgentInfo[]> {
    const started = Date.now();
    for (;;) {
      const agents = await this.hub.listAgents();
      if (predicate(agents)) return agents;
      if (Date.now() - started > timeoutMs)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(agents.map((a) => [a.name, a.status]))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.stop()));
    for (const h of this.hubs) await h.close();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
