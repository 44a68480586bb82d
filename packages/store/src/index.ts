export { openStore, type ForgeStore, type OpenStoreOptions } from './open-store.js';
export { migrate, MIGRATIONS, type Migration } from './migrations.js';
export type { Row, Sql, SqlClient, SqlEngine } from './sql.js';
export { pgliteClient, type PgliteClientOptions } from './pglite-client.js';
export { PgliteDatabaseError } from './pglite-database-error.js';
export { postgresClient, type PostgresClientOptions } from './postgres-client.js';
export { RunStore, type OutboxItem, type OutboxState, type RunPage } from './run-store.js';
export { RunLeaseLostError, RunStoreWriteError } from './run-store-errors.js';
export {
  FINAL_STATUSES,
  type RunStatus,
  type RunRecord,
  type RunWebhook,
  type RunEnd,
  type RunUsageFigures,
} from './run-record.js';
export {
  RunUsage,
  type UsageFigures,
  type UsageGroup,
  type UsageGroupRow,
  type UsageQuery,
  type UsageReport,
} from './run-usage.js';
export type { JournalEvent, NewEvent } from './journal-chunks.js';
export { appendBatches, type JournalBatch } from './journal-batch.js';
export { JOURNAL_CHANNEL, QUEUE_CHANNEL, CANCEL_CHANNEL } from './notify-channels.js';
export { sqlCredentialStore } from './credential-store.js';
export { sqlAgentPresence, type SqlAgentPresence, type SqlAgentPresenceOptions } from './agent-presence.js';
export { ReplicaAddresses, type ReplicaAddressesOptions, type LinkHolder } from './replica-addresses.js';
export { sqlSeenWebhookStore, type SeenWebhookStore } from './seen-webhooks.js';
export { lockDataDir } from './data-dir-lock.js';
export { sqlSessionStore, type SqlSessionStoreOptions } from './session-store.js';
export { sqlAgentSessions, type AgentSessions } from './agent-sessions.js';
export {
  RunCommands,
  RUN_COMMAND_SENT,
  RUN_COMMAND_SETTLED,
  type RunCommand,
  type RunCommandKind,
  type RunCommandOutcome,
  type RunCommandState,
  type NewRunCommand,
} from './run-commands.js';
export { AgentSettings } from './agent-settings.js';
export { ParkedAgents, type ParkedAgent } from './parked-agents.js';
export { KeySpend, spendDay, type Spend } from './key-spend.js';
export { StoredApiKeys, type StoredApiKey, type NewStoredApiKey } from './stored-api-keys.js';
export { RateWindows, type RateWindowCount } from './rate-windows.js';
export { AuditLog, type AuditEntry, type NewAuditEntry, type AuditQuery } from './audit-log.js';
