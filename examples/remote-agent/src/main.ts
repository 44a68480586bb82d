/**
 * The agent side of "agents that dial home", as a program: serves the local provider named by
 * FORGE_PROVIDER to the platform at FORGE_HUB_URL over an outbound connection, so the machine
 * needs no open port. Enrols with FORGE_ENROLMENT_TOKEN on the first start and keeps the
 * credential in FORGE_CREDENTIAL_FILE (0600) for every start after. Reconnects by itself after
 * any drop. On SIGTERM or SIGINT it cancels live runs (reporting them to the platform),
 * disconnects and exits 0; it exits 1 if dialling ends on its own (credential revoked, token
 * refused, FORGE_MAX_ATTEMPTS reached) and 2 on bad configuration.
 */
import { readFile } from 'node:fs/promises';
import { localWorkspaceAttach } from '@forge/core';
import { stopOnSignals } from '@forge/core/internal';
import { dialHome, logRing, type DialHome } from '@forge/dial-home';
import { linkedSessionStore } from '@forge/transport-grpc';
import { readConfig } from './config.js';
import { jsonLogger } from './logger.js';
import { createLocalAgent } from './providers.js';

// Its own log lines and its provider CLI's stderr, kept (bounded) for the platform's GET /agents/:id/logs.
const recent = logRing({ maxLines: 5_000 });
const logger = jsonLogger(undefined, undefined, (line) => recent.append(line));

async function main(): Promise<void> {
  const config = readConfig();
  // Its sessions travel over the dial-home link into the platform's store, so they outlive this machine's files.
  const sessionStore = linkedSessionStore();
  const agent = await createLocalAgent(config, logger, sessionStore, (line) => recent.append(line));
  logger.info('remote agent starting', {
    hub: config.hubUrl,
    name: config.name,
    provider: config.provider,
    credentialFile: config.credentialFile,
    enrolmentToken: config.enrolmentToken ? 'given' : 'none',
    attach: config.allowAttach ? 'allowed' : 'off (FORGE_ALLOW_ATTACH=0)',
  });

  const link: DialHome = dialHome({
    url: config.hubUrl,
    name: config.name,
    agent,
    sessionStore,
    credentialFile: config.credentialFile,
    // The platform's terminals open in the workspace of the runs, as this program's account.
    ...(config.allowAttach ? { attach: localWorkspaceAttach({ workspace: config.cwd }) } : {}),
    logs: recent.source,
    ...(config.enrolmentToken ? { enrolmentToken: config.enrolmentToken } : {}),
    ...(config.hubCaFile ? { tls: { ca: await readFile(config.hubCaFile) } } : {}),
    ...(config.maxAttempts ? { backoff: { maxAttempts: config.maxAttempts } } : {}),
    logger,
    onStatus: (status, detail) =>
      logger.info('connection', {
        status,
        ...(detail.agentId ? { agentId: detail.agentId } : {}),
        ...(detail.error ? { code: detail.error.code, error: detail.error.message } : {}),
      }),
  });

  const signalled = stopOnSignals({
    name: 'remote agent',
    logger,
    async stop() {
      await link.stop();
      await agent.close?.();
    },
  });

  // Dialling that ends by itself (not by a signal) is final: say why and exit non-zero.
  await link.done;
  if (signalled.stopping) return;
  logger.error('remote agent gave up', { code: link.lastError?.code, error: link.lastError?.message });
  await agent.close?.();
  process.exit(1);
}

main().catch((error: unknown) => {
  logger.error('remote agent could not start', {
    code: (error as { code?: string }).code,
    error: error instanceof Error ? error.message : String(error),
  });
  process.exit(2);
});
