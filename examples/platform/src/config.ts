import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '@forge/core';
import { parseApiKeyList, readApiKeyFile, type ApiKeyRecord } from './api-keys.js';

export type BackendKind = 'local' | 'k8s';

export interface PlatformConfig {
  port: number;
  host: string;
  backend: BackendKind;
  /** Local backend: agents' working directories live under `<dataDir>/<user>/<agent>/`. */
  dataDir: string;
  apiKeys: ApiKeyRecord[];
  /** Requests per minute per key. */
  rateLimitPerMinute: number;
  /** Live agents per key. */
  maxAgentsPerKey: number;
  /** Hosts or CIDRs on private networks that webhook URLs may point at; false allows none. */
  webhookAllowPrivate: false | string[];
  /** Provider for agents created without one. */
  defaultProvider: string;
  /** The Claude Code CLI. Default `claude` on PATH. */
  claudeBin: string;
  /** The OpenCode CLI. Default `opencode` on PATH. */
  opencodeBin: string;
  /** How long an agent create may wait for the agent to be ready. */
  createTimeoutMs: number;
  /** PostgreSQL for the queue, journal, outbox and remote agents (replicas share it); undefined: embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  /** Names this process's run leases; stable across restarts lets it reclaim its runs at once. Default: random. */
  instanceId: string | undefined;
  /** A run held by an instance that stops renewing its lease for this long is taken over. */
  leaseMs: number;
  /** Messages waiting per agent before 429 QUEUE_FULL. */
  maxQueuedPerAgent: number;
  /** Finished runs (result, events) are kept this long… */
  retentionMs: number;
  /** …and the oldest are removed beyond this many journaled events. */
  retentionMaxEvents: number;
  /** Serve the dial-home hub for remote agents on this port (0: a free one); undefined: no hub. */
  hubPort: number | undefined;
  /** Signs enrolment tokens; at least 32 bytes. Required with hubPort. */
  hubSecret: string | undefined;
  k8s: { namespace: string; image: string; agentPort: number; envFromSecrets: string[] };
}

const USAGE = `forge platform — options (flags override environment variables):
  --port / FORGE_PORT (or PORT)                 default 8080
  --host / FORGE_HOST                           default 127.0.0.1
  --backend / FORGE_BACKEND                     local | k8s (default local)
  --data-dir / FORGE_DATA_DIR                   default <tmpdir>/forge-platform
  FORGE_API_KEYS                                user1:key1,user2:key2
  --api-keys-file / FORGE_API_KEYS_FILE         JSON: [{ "user": "…", "key" | "sha256": "…" }]
  --rate-limit / FORGE_RATE_LIMIT               requests per minute per key (default 100)
  --max-agents / FORGE_MAX_AGENTS               live agents per key (default 10)
  --webhook-allow-private / FORGE_WEBHOOK_ALLOW_PRIVATE  hosts/CIDRs, comma-separated (default none)
  --default-provider / FORGE_DEFAULT_PROVIDER   claude-code | opencode | scripted (default claude-code)
  FORGE_CLAUDE_BIN, FORGE_OPENCODE_BIN          the CLIs (default on PATH)
  --hub-port / FORGE_HUB_PORT, FORGE_HUB_SECRET remote agents (dial-home hub)
  --database-url / FORGE_DATABASE_URL           PostgreSQL shared by replicas (default: embedded PGlite in <data-dir>/db)
  FORGE_INSTANCE_ID                             this replica's lease name (default random; stable = reclaim at once after restart)
  FORGE_LEASE_MS                                run lease; a dead replica's runs are taken over after it (default 15000)
  FORGE_MAX_QUEUED                              messages waiting per agent before 429 (default 100)
  FORGE_RETENTION_MS, FORGE_RETENTION_MAX_EVENTS  keep finished runs 7 days, at most 1,000,000 events
  FORGE_K8S_NAMESPACE, FORGE_K8S_IMAGE, FORGE_K8S_AGENT_PORT, FORGE_K8S_ENV_FROM_SECRETS (agent pods' model keys)`;

export const configUsage = () => USAGE;

function bad(field: string, message: string): never {
  throw new ValidationError('INVALID_CONFIG', `${field}: ${message}`, [
    { path: field, code: 'INVALID_CONFIG', message },
  ]);
}

function int(field: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    bad(field, `expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** Reads the configuration from flags and environment; throws ValidationError('INVALID_CONFIG') on bad values. */
export function loadConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      backend: { type: 'string' },
      'data-dir': { type: 'string' },
      'api-keys-file': { type: 'string' },
      'rate-limit': { type: 'string' },
      'max-agents': { type: 'string' },
      'webhook-allow-private': { type: 'string' },
      'default-provider': { type: 'string' },
      'hub-port': { type: 'string' },
      'database-url': { type: 'string' },
    },
  });
  const pick = (flag: keyof typeof values, ...vars: string[]) =>
    (values[flag] as string | undefined) ?? vars.map((v) => env[v]).find((v) => v !== undefined && v !== '');

  const backend = pick('backend', 'FORGE_BACKEND') ?? 'local';
  if (backend !== 'local' && backend !== 'k8s') bad('backend', `expected local or k8s, got "${backend}"`);

  const apiKeys: ApiKeyRecord[] = [];
  if (env.FORGE_API_KEYS) apiKeys.push(...parseApiKeyList(env.FORGE_API_KEYS));
  const keyFile = pick('api-keys-file', 'FORGE_API_KEYS_FILE');
  if (keyFile) apiKeys.push(...readApiKeyFile(keyFile));

  const allow = pick('webhook-allow-private', 'FORGE_WEBHOOK_ALLOW_PRIVATE');
  const hubPortText = pick('hub-port', 'FORGE_HUB_PORT');
  const hubSecret = env.FORGE_HUB_SECRET || undefined;
  const hubPort = hubPortText === undefined ? undefined : int('hubPort', hubPortText, 0, 0, 65_535);
  if (hubPort !== undefined && (!hubSecret || Buffer.byteLength(hubSecret) < 32))
    bad('hubSecret', 'FORGE_HUB_SECRET of at least 32 bytes is required with a hub port');

  return {
    port: int('port', pick('port', 'FORGE_PORT', 'PORT'), 8080, 0, 65_535),
    host: pick('host', 'FORGE_HOST') ?? '127.0.0.1',
    backend,
    dataDir: pick('data-dir', 'FORGE_DATA_DIR') ?? join(tmpdir(), 'forge-platform'),
    apiKeys,
    rateLimitPerMinute: int('rateLimit', pick('rate-limit', 'FORGE_RATE_LIMIT'), 100, 1, 1_000_000),
    maxAgentsPerKey: int('maxAgents', pick('max-agents', 'FORGE_MAX_AGENTS'), 10, 1, 100_000),
    webhookAllowPrivate: allow
      ? allow
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : false,
    defaultProvider: pick('default-provider', 'FORGE_DEFAULT_PROVIDER') ?? 'claude-code',
    claudeBin: env.FORGE_CLAUDE_BIN || 'claude',
    opencodeBin: env.FORGE_OPENCODE_BIN || 'opencode',
    createTimeoutMs: int('createTimeoutMs', env.FORGE_CREATE_TIMEOUT_MS, 120_000, 1, 3_600_000),
    databaseUrl: pick('database-url', 'FORGE_DATABASE_URL'),
    instanceId: env.FORGE_INSTANCE_ID || undefined,
    leaseMs: int('leaseMs', env.FORGE_LEASE_MS, 15_000, 500, 3_600_000),
    maxQueuedPerAgent: int('maxQueued', env.FORGE_MAX_QUEUED, 100, 1, 1_000_000),
    retentionMs: int('retentionMs', env.FORGE_RETENTION_MS, 7 * 86_400_000, 1_000, 10 * 365 * 86_400_000),
    retentionMaxEvents: int('retentionMaxEvents', env.FORGE_RETENTION_MAX_EVENTS, 1_000_000, 1, 1_000_000_000),
    hubPort,
    hubSecret,
    k8s: {
      namespace: env.FORGE_K8S_NAMESPACE || 'forge',
      image: env.FORGE_K8S_IMAGE || 'forge-agent-pod:latest',
      agentPort: int('k8s.agentPort', env.FORGE_K8S_AGENT_PORT, 8080, 1, 65_535),
      // Secrets whose keys become the agent pods' environment (e.g. ANTHROPIC_API_KEY), never read by the platform.
      envFromSecrets: (env.FORGE_K8S_ENV_FROM_SECRETS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    },
  };
}
