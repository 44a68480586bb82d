/**
 * The program an agent pod runs: serves the provider named by FORGE_PROVIDER over gRPC /
 * Connect on PORT (default 8080), answers grpc.health.v1 checks, and on SIGTERM or SIGINT stops
 * taking runs, lets live ones finish within FORGE_GRACE_MS, cancels the rest, and exits 0.
 */
import { readFile } from 'node:fs/promises';
import { stopOnSignals } from '@forge/core/internal';
import { serveAgent } from '@forge/transport-grpc';
import { readConfig } from './config.js';
import { jsonLogger } from './logger.js';
import { createPodProvider } from './providers.js';

const logger = jsonLogger();

async function main(): Promise<void> {
  const config = readConfig();
  const provider = await createPodProvider(config, logger);
  const server = await serveAgent(provider.agent, {
    port: config.port,
    host: config.host,
    logger,
    defaultGraceMs: config.graceMs,
    detachedRunTtlMs: config.detachedRunTtlMs,
    sessionStore: provider.sessionStore,
    ...(config.authToken ? { authToken: config.authToken } : {}),
    ...(config.maxRuns ? { maxRuns: config.maxRuns } : {}),
    ...(config.tlsCertFile && config.tlsKeyFile
      ? { tls: { cert: await readFile(config.tlsCertFile), key: await readFile(config.tlsKeyFile) } }
      : {}),
  });
  logger.info('agent pod listening', {
    url: server.url,
    port: server.port,
    host: server.host,
    provider: config.provider,
    auth: config.authToken ? 'bearer' : 'none',
  });

  const { stop } = stopOnSignals({
    name: 'agent pod',
    logger,
    fields: { graceful: true, graceMs: config.graceMs },
    async stop() {
      const drained = await server.close({ graceful: true, graceMs: config.graceMs });
      await provider.close();
      return drained;
    },
  });
  // A Shutdown call closes the server itself; follow it out.
  void server.closed.then(() => stop('Shutdown call'));
}

main().catch((error: unknown) => {
  logger.error('agent pod could not start', { error: error instanceof Error ? error.message : String(error) });
  process.exit(2);
});
