import { sqlAgentSessions, type AgentSessions } from './agent-sessions.js';
import type { CredentialStore } from '@forge/dial-home';
import { AgentSettings } from './agent-settings.js';
import { sqlCredentialStore } from './credential-store.js';
import { KeySpend } from './key-spend.js';
import { lockDataDir } from './data-dir-lock.js';
import { migrate } from './migrations.js';
import { pgliteClient, type PgliteClientOptions } from './pglite-client.js';
import { postgresClient } from './postgres-client.js';
import { RunStore } from './run-store.js';
import { RunUsage } from './run-usage.js';
import { sqlSeenWebhookStore, type SeenWebhookStore } from './seen-webhooks.js';
import type { SqlClient } from './sql.js';
import { AuditLog } from './audit-log.js';
import { RateWindows } from './rate-windows.js';
import { StoredApiKeys } from './stored-api-keys.js';

export type OpenStoreOptions =
  /** PostgreSQL: replicas share it. */
  | { databaseUrl: string; poolSize?: number }
  /** PGlite with its files in `dataDir` (one process at a time). */
  | ({ dataDir: string } & PgliteClientOptions)
  /** PGlite in memory: gone with the process (tests, benchmarks). */
  | ({ memory: true } & PgliteClientOptions);

export interface ForgeStore {
  readonly sql: SqlClient;
  readonly runs: RunStore;
  readonly credentials: CredentialStore;
  readonly seenWebhooks: SeenWebhookStore;
  /** Run defaults agents were created with. */
  readonly agentSettings: AgentSettings;
  /** Each API key's spend per day. */
  readonly keySpend: KeySpend;
  /** Finished runs' tokens, cost and duration (usage reports). */
  readonly usage: RunUsage;
  /** The stored sessions by agent (listing, retention); `sqlSessionStore(sql)` saves and loads them. */
  readonly agentSessions: AgentSessions;
  /** API keys issued over the API (hashed), read on every request. */
  readonly apiKeys: StoredApiKeys;
  /** Rate-limit counters the replicas share. */
  readonly rateWindows: RateWindows;
  /** The append-only audit log. */
  readonly audit: AuditLog;
  /** True when no other process can use this database (embedded PGlite): whatever it holds is ours. */
  readonly exclusive: boolean;
  /** Schema versions applied by this open. */
  readonly migrated: number[];
  close(): Promise<void>;
}

const pgliteOptions = (options: PgliteClientOptions): PgliteClientOptions =>
  options.worker === undefined ? {} : { worker: options.worker };

/** Opens the database, runs pending migrations, and returns the platform's store on it. */
export async function openStore(options: OpenStoreOptions): Promise<ForgeStore> {
  let unlock: (() => Promise<void>) | undefined;
  let sql: SqlClient;
  if ('databaseUrl' in options) {
    sql = await postgresClient(options.databaseUrl, options.poolSize ? { max: options.poolSize } : {});
  } else if ('dataDir' in options) {
    unlock = await lockDataDir(options.dataDir);
    try {
      sql = await pgliteClient(options.dataDir, pgliteOptions(options));
    } catch (error) {
      await unlock();
      throw error;
    }
  } else {
    sql = await pgliteClient(undefined, pgliteOptions(options));
  }
  let migrated: number[];
  try {
    migrated = await migrate(sql);
  } catch (error) {
    await sql.close().catch(() => {});
    await unlock?.();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    sql,
    runs: new RunStore(sql),
    credentials: sqlCredentialStore(sql),
    seenWebhooks: sqlSeenWebhookStore(sql),
    agentSettings: new AgentSettings(sql),
    keySpend: new KeySpend(sql),
    usage: new RunUsage(sql),
    agentSessions: sqlAgentSessions(sql),
    apiKeys: new StoredApiKeys(sql),
    rateWindows: new RateWindows(sql),
    audit: new AuditLog(sql),
    exclusive: sql.engine === 'pglite',
    migrated,
    close() {
      closing ??= (async () => {
        await sql.close();
        await unlock?.();
      })();
      return closing;
    },
  };
}
