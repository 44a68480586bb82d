import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readK8sPodSettings, type K8sPodSettings } from './backends/k8s-settings.js';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { ApprovalsSchema, BudgetSchema, ValidationError, type McpServer } from '@forge/core';
import { closestName } from '@forge/core/internal';
import { markAdmins, parseApiKeyList, readApiKeyFile, type ApiKeyRecord } from './api-keys.js';
import { DEFAULT_MAX_ATTACHMENT_BYTES } from './http/rest-attachments.js';
import type { RunDefaults } from './http/run-settings.js';
import { readMcpCatalog } from './mcp-catalog.js';
import { defaultMaxRunning } from './runs/max-running.js';
import { defaultPrewarmMax } from './prewarm/prewarm-max.js';
import { oneSourceOf, secretSetting, type SecretSource } from './secret-settings.js';

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
  /** Requests per minute from one client address, all keys together; 0: no such limit. */
  rateLimitPerAddress: number;
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
  /** The Codex CLI. Default `codex` on PATH. */
  codexBin: string;
  /** Codex's model: a Responses API (`FORGE_CODEX_BASE_URL`) whose key is in `FORGE_CODEX_KEY_ENV`. */
  codexProvider?: { baseUrl: string; envKey: string };
  /** The Gemini CLI. Default `gemini` on PATH. */
  geminiBin: string;
  /** Registers provider `acp`: an ACP agent's command and arguments (`FORGE_ACP_COMMAND`, `FORGE_ACP_ARGS` as JSON). */
  acp?: { command: string; args: string[] };
  /** How long an agent create may wait for the agent to be ready. */
  createTimeoutMs: number;
  /** PostgreSQL for the queue, journal, outbox and remote agents (replicas share it); undefined: embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  /**
   * Embedded PGlite in a worker thread, off the event loop's thread (default; FORGE_PGLITE_WORKER=0: in this thread).
   * Idle RSS is the same either way (230–235 vs 220–241 MB, bench/README.md "A light PGlite worker").
   */
  pgliteWorker: boolean;
  /** Names this process's run leases; stable across restarts lets it reclaim its runs at once. Default: random. */
  instanceId: string | undefined;
  /** A run held by an instance that stops renewing its lease for this long is taken over. */
  leaseMs: number;
  /** How long a reply for a run on another replica waits for that replica to take it (then 504 REPLY_NOT_DELIVERED). */
  replyTimeoutMs: number;
  /** On SIGTERM, how long runs executing here (not handed over to another replica) may take to finish. */
  drainMs: number;
  /** A handed-over run whose agent never comes back for it is ended after this long (FORGE_HANDOVER_WAIT_MS). */
  handoverWaitMs: number;
  /** Messages waiting per agent before 429 QUEUE_FULL. */
  maxQueuedPerAgent: number;
  /** Runs this instance executes at once, across agents (default 16 per core). */
  maxRunning: number;
  /** Spare agent processes kept for active agents' next new sessions, at most (0: none; default per machine). */
  prewarmMax: number;
  /** A spare nobody took in this long is ended. */
  prewarmIdleMs: number;
  /** Finished runs (result, events) are kept this long… */
  retentionMs: number;
  /** …and the oldest are removed beyond this many journaled events. */
  retentionMaxEvents: number;
  /** Audit log entries are kept this long (default 90 days), swept with the runs. */
  auditRetentionMs: number;
  /** Serve the dial-home hub for remote agents on this port (0: a free one); undefined: no hub. */
  hubPort: number | undefined;
  /** Signs enrolment tokens; at least 32 bytes. Required with hubPort. */
  hubSecret: string | undefined;
  /**
   * The hub's URL as remote agents reach it (behind a load balancer, a Service, TLS), written into
   * enrolment tokens' join commands. Default: the address the hub is bound to.
   */
  hubPublicUrl: string | undefined;
  /**
   * Signs attach connections relayed between replicas (FORGE_REPLICA_SECRET, at least 32 bytes); default: a key
   * derived from hubSecret, which the replicas share already.
   */
  replicaSecret?: string;
  /** Where the other replicas reach this one (FORGE_REPLICA_URL); default: the address it listens on. */
  replicaUrl?: string;
  k8s: { namespace: string; image: string; agentPort: number; envFromSecrets: string[] } & K8sPodSettings;
  /** Serve GET /metrics on this port, without a key (0: a free one); undefined: on the main port, admin keys only. */
  metricsPort: number | undefined;
  /**
   * Local backend: the OS user agents run as (`FORGE_AGENT_USER`), so that they cannot read this
   * process's environment or its secret files. Needs root or CAP_SETUID (see agent-isolation.ts).
   */
  agentUser: string | undefined;
  /** MCP servers users may name in requests (`FORGE_MCP_SERVERS`, a JSON file); none by default. */
  mcpServers: McpServer[];
  /** Decoded bytes of one message's attachments together (`FORGE_MAX_ATTACHMENT_BYTES`). */
  maxAttachmentBytes: number;
  /** Approvals and budget for every run unless its agent or message sets them (`FORGE_DEFAULT_APPROVALS/BUDGET`). */
  runDefaults: RunDefaults;
  /** Where each of the platform's secrets came from (environment, file, command line), for the exposure warning. */
  secretSources: SecretSource[];
}

const USAGE = `forge platform — options (flags override environment variables):
  --port / FORGE_PORT (or PORT)                 default 8080
  --host / FORGE_HOST                           default 127.0.0.1
  --backend / FORGE_BACKEND                     local | k8s (default local)
  --data-dir / FORGE_DATA_DIR                   default <tmpdir>/forge-platform
  FORGE_API_KEYS                                user1:key1,user2:key2
  --api-keys-file / FORGE_API_KEYS_FILE         JSON: [{ "user": "…", "key" | "sha256": "…", "admin"?: true }]
  FORGE_AGENT_USER                              local agents run as this OS user (needs root or CAP_SETUID)
  Secrets: FORGE_API_KEYS, FORGE_HUB_SECRET, FORGE_REPLICA_SECRET and FORGE_DATABASE_URL may each be given as <NAME>_FILE, a file
  of mode 0600 owned by the platform's user, instead (an environment variable can be read from /proc)
  FORGE_MCP_SERVERS                             a JSON file of named MCP servers users may name (they never give a command)
  FORGE_MAX_ATTACHMENT_BYTES                    a message's attachments together, decoded (default 5242880)
  FORGE_DEFAULT_APPROVALS, FORGE_DEFAULT_BUDGET  JSON: every run's approvals / budget unless its agent or message sets one
  FORGE_ADMIN_USERS                             users whose keys may issue enrolment tokens, comma-separated
  --rate-limit / FORGE_RATE_LIMIT               requests per minute per key (default 100), counted in the store
  FORGE_RATE_LIMIT_PER_ADDRESS                  requests per minute from one client address (default 0: none)
  --max-agents / FORGE_MAX_AGENTS               live agents per key (default 10)
  --webhook-allow-private / FORGE_WEBHOOK_ALLOW_PRIVATE  hosts/CIDRs, comma-separated (default none)
  --default-provider / FORGE_DEFAULT_PROVIDER   claude-code | opencode | codex | gemini | acp | scripted (default claude-code)
  FORGE_CLAUDE_BIN, FORGE_OPENCODE_BIN, FORGE_CODEX_BIN  the CLIs (default on PATH)
  FORGE_CODEX_BASE_URL, FORGE_CODEX_KEY_ENV     Codex's Responses API and the variable with its key (default OPENAI_API_KEY)
  FORGE_GEMINI_BIN                              the Gemini CLI (default gemini on PATH)
  FORGE_ACP_COMMAND, FORGE_ACP_ARGS             an ACP agent registered as provider acp (args: a JSON array)
  --hub-port / FORGE_HUB_PORT, FORGE_HUB_SECRET remote agents (dial-home hub)
  --hub-public-url / FORGE_HUB_PUBLIC_URL      the hub's URL as remote agents reach it (default: where it is bound)
  FORGE_METRICS_PORT                            serve /metrics there without a key (default: main port, admin key)
  --database-url / FORGE_DATABASE_URL           PostgreSQL shared by replicas (default: embedded PGlite in <data-dir>/.forge-db)
  FORGE_PGLITE_WORKER                           embedded PGlite in a worker thread: 1 (default), or 0 (the main thread)
  FORGE_REPLICA_URL                             where other replicas reach this one to relay attach (default: its listen address)
  FORGE_REPLICA_SECRET                          signs attach relayed between replicas (default: derived from FORGE_HUB_SECRET)
  FORGE_INSTANCE_ID                             this replica's lease name (default random; stable = reclaim at once after restart)
  FORGE_LEASE_MS                                run lease; a dead replica's runs are taken over after it (default 15000)
  FORGE_REPLY_TIMEOUT_MS                        a reply relayed to the replica running the run waits this long for it (default 5000)
  FORGE_DRAIN_MS                                on SIGTERM: pod and remote runs are handed over, local ones get this long to finish (default 30000)
  FORGE_HANDOVER_WAIT_MS                        a handed-over remote run whose agent never dials back is ended after this long (default 180000)
  FORGE_MAX_QUEUED                              messages waiting per agent before 429 (default 100)
  --max-running / FORGE_MAX_RUNNING             runs this instance executes at once (default 16 per core: ${defaultMaxRunning()} here)
  FORGE_PREWARM_MAX                             spare agent processes for active agents' next new sessions (0: off; default ${defaultPrewarmMax()} here)
  FORGE_PREWARM_IDLE_MS                         a spare nobody took is ended after this long (default 300000)
  FORGE_RETENTION_MS, FORGE_RETENTION_MAX_EVENTS  keep finished runs 7 days, at most 1,000,000 events
  FORGE_AUDIT_RETENTION_MS                      keep audit log entries this long (default 90 days)
  FORGE_K8S_NAMESPACE, FORGE_K8S_IMAGE, FORGE_K8S_AGENT_PORT, FORGE_K8S_ENV_FROM_SECRETS (agent pods' model keys)
  FORGE_K8S_RESOURCES                           agent pods' requests/limits: cpu=500m,memory=1Gi or JSON {requests,limits}
  FORGE_K8S_IMAGES                              images agents may be created with: name=image,… or JSON (default: FORGE_K8S_IMAGE only)
  FORGE_K8S_IDLE_TTL                            remove an agent's pod after this long without a run (e.g. 30m; default never)
  FORGE_K8S_REAP_INTERVAL_MS                    how often idle and dead pods are reaped (default a tenth of the TTL, 1 s–60 s)`;

export const configUsage = () => USAGE;

/** How a setting is given, as the operator types it: `--rate-limit / FORGE_RATE_LIMIT`. */
const source = (flag: string | undefined, ...vars: string[]) =>
  [flag && `--${flag}`, ...vars].filter(Boolean).join(' / ');

function bad(setting: string, message: string): never {
  throw new ValidationError('INVALID_CONFIG', `${setting}: ${message}`, [
    { path: setting, code: 'INVALID_CONFIG', message },
  ]);
}

function pgliteWorker(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  bad('FORGE_PGLITE_WORKER', `expected 1 or 0, got "${value}"`);
}

function int(setting: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    bad(setting, `expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** Hosts, addresses and CIDRs; a malformed CIDR is refused here, where the flag's name is known. */
function allowList(setting: string, text: string | undefined): false | string[] {
  if (!text) return false;
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (!entry.includes('/')) continue;
    const [address = '', bits = '', ...rest] = entry.split('/');
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    if (!family || rest.length || !/^\d{1,3}$/.test(bits) || Number(bits) > max)
      bad(setting, `"${entry}" is not a valid CIDR (address/prefix, prefix at most ${max})`);
  }
  return entries;
}

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  backend: { type: 'string' },
  'data-dir': { type: 'string' },
  'api-keys-file': { type: 'string' },
  'rate-limit': { type: 'string' },
  'max-agents': { type: 'string' },
  'max-running': { type: 'string' },
  'webhook-allow-private': { type: 'string' },
  'default-provider': { type: 'string' },
  'hub-port': { type: 'string' },
  'hub-public-url': { type: 'string' },
  'database-url': { type: 'string' },
} as const;

/** node:util's parseArgs throws a plain TypeError for an unknown flag; this names it and the closest known one. */
function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options: FLAGS }).values;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const given = argv.find((a) => a.startsWith('--') && !Object.hasOwn(FLAGS, a.slice(2).split('=')[0]!));
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && given) {
      const name = given.split('=')[0]!;
      const guess = closestName(name.slice(2), Object.keys(FLAGS));
      const message = `unknown flag ${name}${guess ? `; did you mean --${guess}?` : ''} (see --help)`;
      throw new ValidationError('UNKNOWN_FIELD', message, [{ path: name, code: 'UNKNOWN_FIELD', message }]);
    }
    throw new ValidationError('INVALID_CONFIG', (error as Error).message, [], { cause: error });
  }
}

/**
 * The platform's own secrets among its environment variables: API keys, the hub secret (enough to
 * forge enrolment tokens), database URLs, and any `FORGE_…_SECRET/_KEY/_KEYS/_TOKEN/_PASSWORD`.
 */
export function isPlatformSecret(name: string): boolean {
  return (
    name === 'DATABASE_URL' ||
    (name.startsWith('FORGE_') &&
      /(_SECRETS?|_KEYS?|_TOKENS?|_PASSWORD|_URL|_DSN)$/.test(name) &&
      name !== 'FORGE_K8S_ENV_FROM_SECRETS')
  );
}

/**
 * Deletes the platform's secrets from `env` (normally `process.env`) once the configuration holds
 * them, so nothing that reads or copies this process's environment later (a child process, a
 * dependency, a crash dump) finds them. Returns the names removed.
 */
export function dropSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const dropped = Object.keys(env).filter(isPlatformSecret);
  for (const name of dropped) delete env[name];
  return dropped;
}

function acpArgs(raw: string | undefined): string[] {
  if (raw === undefined || raw === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    bad('FORGE_ACP_ARGS', `expected a JSON array of strings, got ${raw}`);
  return value as string[];
}

/** Reads the configuration from flags and environment; throws ValidationError('INVALID_CONFIG') on bad values. */
export function loadConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const values = parseFlags(argv);
  const pick = (flag: keyof typeof values, ...vars: string[]) =>
    (values[flag] as string | undefined) ?? vars.map((v) => env[v]).find((v) => v !== undefined && v !== '');

  const backend = pick('backend', 'FORGE_BACKEND') ?? 'local';
  if (backend !== 'local' && backend !== 'k8s')
    bad(source('backend', 'FORGE_BACKEND'), `expected local or k8s, got "${backend}"`);

  const secretSources: SecretSource[] = [];
  const apiKeys: ApiKeyRecord[] = [];
  const keyFile = pick('api-keys-file', 'FORGE_API_KEYS_FILE');
  const keyFileSetting = values['api-keys-file'] ? '--api-keys-file' : 'FORGE_API_KEYS_FILE';
  oneSourceOf('FORGE_API_KEYS', env, { setting: keyFileSetting, value: keyFile });
  if (env.FORGE_API_KEYS) {
    apiKeys.push(...parseApiKeyList(env.FORGE_API_KEYS));
    secretSources.push({ name: 'FORGE_API_KEYS', from: 'env', setting: 'FORGE_API_KEYS' });
  }
  if (keyFile) {
    apiKeys.push(...readApiKeyFile(keyFile));
    secretSources.push({ name: 'FORGE_API_KEYS', from: 'file', path: keyFile, setting: keyFileSetting });
  }
  if (env.FORGE_ADMIN_USERS) apiKeys.splice(0, apiKeys.length, ...markAdmins(apiKeys, env.FORGE_ADMIN_USERS));

  const allow = allowList(
    source('webhook-allow-private', 'FORGE_WEBHOOK_ALLOW_PRIVATE'),
    pick('webhook-allow-private', 'FORGE_WEBHOOK_ALLOW_PRIVATE'),
  );
  const hubPortText = pick('hub-port', 'FORGE_HUB_PORT');
  const hubSecret = secretSetting('FORGE_HUB_SECRET', env, secretSources);
  const hubPort =
    hubPortText === undefined ? undefined : int(source('hub-port', 'FORGE_HUB_PORT'), hubPortText, 0, 0, 65_535);
  if (hubPort !== undefined && (!hubSecret || Buffer.byteLength(hubSecret) < 32))
    bad(
      'FORGE_HUB_SECRET',
      'a secret of at least 32 bytes (FORGE_HUB_SECRET or FORGE_HUB_SECRET_FILE) is required with --hub-port / FORGE_HUB_PORT',
    );
  const hubPublicUrl = pick('hub-public-url', 'FORGE_HUB_PUBLIC_URL');
  const replicaSecret = secretSetting('FORGE_REPLICA_SECRET', env, secretSources);
  if (replicaSecret !== undefined && Buffer.byteLength(replicaSecret) < 32)
    bad('FORGE_REPLICA_SECRET', 'a secret of at least 32 bytes is required');
  const replicaUrl = env.FORGE_REPLICA_URL || undefined;
  if (replicaUrl !== undefined && (!URL.canParse(replicaUrl) || !/^https?:$/.test(new URL(replicaUrl).protocol)))
    bad('FORGE_REPLICA_URL', `expected an http(s) URL, got "${replicaUrl}"`);
  if (hubPublicUrl !== undefined) {
    const where = source('hub-public-url', 'FORGE_HUB_PUBLIC_URL');
    if (!URL.canParse(hubPublicUrl) || !/^https?:$/.test(new URL(hubPublicUrl).protocol))
      bad(where, `expected an http(s) URL, got "${hubPublicUrl}"`);
    if (hubPort === undefined) bad(where, 'needs a hub: set --hub-port / FORGE_HUB_PORT too');
  }
  const databaseFlag = values['database-url'];
  // A password on the command line is readable by every user (ps, /proc/<pid>/cmdline): the warning says so.
  if (databaseFlag && URL.canParse(databaseFlag) && new URL(databaseFlag).password)
    secretSources.push({ name: 'FORGE_DATABASE_URL', from: 'argv', setting: '--database-url' });
  const databaseFromEnv = secretSetting('FORGE_DATABASE_URL', env, secretSources);
  const databaseUrl = databaseFlag || databaseFromEnv;
  const agentUser = env.FORGE_AGENT_USER || undefined;
  if (agentUser && backend !== 'local')
    bad('FORGE_AGENT_USER', `applies to the local backend only (agents of the ${backend} backend run in pods)`);

  return {
    port: int(source('port', 'FORGE_PORT', 'PORT'), pick('port', 'FORGE_PORT', 'PORT'), 8080, 0, 65_535),
    host: pick('host', 'FORGE_HOST') ?? '127.0.0.1',
    backend,
    dataDir: pick('data-dir', 'FORGE_DATA_DIR') ?? join(tmpdir(), 'forge-platform'),
    apiKeys,
    rateLimitPerMinute: int(
      source('rate-limit', 'FORGE_RATE_LIMIT'),
      pick('rate-limit', 'FORGE_RATE_LIMIT'),
      100,
      1,
      1_000_000,
    ),
    rateLimitPerAddress: int('FORGE_RATE_LIMIT_PER_ADDRESS', env.FORGE_RATE_LIMIT_PER_ADDRESS, 0, 0, 1_000_000),
    maxAgentsPerKey: int(
      source('max-agents', 'FORGE_MAX_AGENTS'),
      pick('max-agents', 'FORGE_MAX_AGENTS'),
      10,
      1,
      100_000,
    ),
    webhookAllowPrivate: allow,
    defaultProvider: pick('default-provider', 'FORGE_DEFAULT_PROVIDER') ?? 'claude-code',
    claudeBin: env.FORGE_CLAUDE_BIN || 'claude',
    opencodeBin: env.FORGE_OPENCODE_BIN || 'opencode',
    codexBin: env.FORGE_CODEX_BIN || 'codex',
    geminiBin: env.FORGE_GEMINI_BIN || 'gemini',
    ...(env.FORGE_ACP_COMMAND ? { acp: { command: env.FORGE_ACP_COMMAND, args: acpArgs(env.FORGE_ACP_ARGS) } } : {}),
    ...(env.FORGE_CODEX_BASE_URL
      ? { codexProvider: { baseUrl: env.FORGE_CODEX_BASE_URL, envKey: env.FORGE_CODEX_KEY_ENV || 'OPENAI_API_KEY' } }
      : {}),
    createTimeoutMs: int('FORGE_CREATE_TIMEOUT_MS', env.FORGE_CREATE_TIMEOUT_MS, 120_000, 1, 3_600_000),
    databaseUrl,
    pgliteWorker: pgliteWorker(env.FORGE_PGLITE_WORKER),
    instanceId: env.FORGE_INSTANCE_ID || undefined,
    ...(replicaSecret ? { replicaSecret } : {}),
    ...(replicaUrl ? { replicaUrl } : {}),
    leaseMs: int('FORGE_LEASE_MS', env.FORGE_LEASE_MS, 15_000, 500, 3_600_000),
    replyTimeoutMs: int('FORGE_REPLY_TIMEOUT_MS', env.FORGE_REPLY_TIMEOUT_MS, 5_000, 100, 600_000),
    drainMs: int('FORGE_DRAIN_MS', env.FORGE_DRAIN_MS, 30_000, 0, 3_600_000),
    handoverWaitMs: int('FORGE_HANDOVER_WAIT_MS', env.FORGE_HANDOVER_WAIT_MS, 180_000, 1_000, 86_400_000),
    maxQueuedPerAgent: int('FORGE_MAX_QUEUED', env.FORGE_MAX_QUEUED, 100, 1, 1_000_000),
    maxRunning: int(
      source('max-running', 'FORGE_MAX_RUNNING'),
      pick('max-running', 'FORGE_MAX_RUNNING'),
      defaultMaxRunning(),
      1,
      100_000,
    ),
    prewarmMax: int('FORGE_PREWARM_MAX', env.FORGE_PREWARM_MAX, defaultPrewarmMax(), 0, 1_000),
    prewarmIdleMs: int('FORGE_PREWARM_IDLE_MS', env.FORGE_PREWARM_IDLE_MS, 300_000, 1_000, 86_400_000),
    retentionMs: int('FORGE_RETENTION_MS', env.FORGE_RETENTION_MS, 7 * 86_400_000, 1_000, 10 * 365 * 86_400_000),
    retentionMaxEvents: int('FORGE_RETENTION_MAX_EVENTS', env.FORGE_RETENTION_MAX_EVENTS, 1_000_000, 1, 1_000_000_000),
    auditRetentionMs: int(
      'FORGE_AUDIT_RETENTION_MS',
      env.FORGE_AUDIT_RETENTION_MS,
      90 * 86_400_000,
      1_000,
      10 * 365 * 86_400_000,
    ),
    hubPort,
    hubSecret,
    hubPublicUrl,
    metricsPort: env.FORGE_METRICS_PORT ? int('FORGE_METRICS_PORT', env.FORGE_METRICS_PORT, 0, 0, 65_535) : undefined,
    k8s: {
      namespace: env.FORGE_K8S_NAMESPACE || 'forge',
      image: env.FORGE_K8S_IMAGE || 'forge-agent-pod:latest',
      agentPort: int('FORGE_K8S_AGENT_PORT', env.FORGE_K8S_AGENT_PORT, 8080, 1, 65_535),
      // Secrets whose keys become the agent pods' environment (e.g. ANTHROPIC_API_KEY), never read by the platform.
      envFromSecrets: (env.FORGE_K8S_ENV_FROM_SECRETS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      ...readK8sPodSettings(env),
    },
    agentUser,
    mcpServers: env.FORGE_MCP_SERVERS ? readMcpCatalog(env.FORGE_MCP_SERVERS) : [],
    maxAttachmentBytes: int(
      'FORGE_MAX_ATTACHMENT_BYTES',
      env.FORGE_MAX_ATTACHMENT_BYTES,
      DEFAULT_MAX_ATTACHMENT_BYTES,
      1,
      512 * 1024 * 1024,
    ),
    runDefaults: {
      ...jsonSetting('FORGE_DEFAULT_APPROVALS', env.FORGE_DEFAULT_APPROVALS, ApprovalsSchema, 'approvals'),
      ...jsonSetting('FORGE_DEFAULT_BUDGET', env.FORGE_DEFAULT_BUDGET, BudgetSchema, 'budget'),
    },
    secretSources,
  };
}

/** A JSON setting checked with core's schema for the field, as `{ [field]: value }`; `{}` when unset. */
function jsonSetting<T>(
  setting: string,
  text: string | undefined,
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
  },
  field: string,
): Record<string, T> {
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    bad(setting, `not JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    bad(setting, parsed.error.issues.map((i) => `${i.path.map(String).join('.') || field}: ${i.message}`).join('; '));
  return { [field]: parsed.data };
}
