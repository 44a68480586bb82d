import { randomBytes } from 'node:crypto';
import { ForgeError } from '@forge/core';
import { hashKey } from './api-keys.js';
import { startPlatform } from './app.js';
import { configUsage, dropSecretsFromEnv, loadConfig } from './config.js';
import { stopPlatform } from './graceful-stop.js';
import { joinCommand } from './join-command.js';
import { jsonLogger } from './logger.js';

/** `pnpm start`: the platform from environment and flags, until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(configUsage());
    return;
  }
  const logger = jsonLogger({ level: (process.env.FORGE_LOG_LEVEL as 'debug' | 'info' | undefined) ?? 'info' });
  // `pnpm start -- --port 9000` passes the `--` through.
  const args = process.argv.slice(2);
  if (args[0] === '--') args.shift();
  const config = loadConfig(args);
  // Read once; from here on nothing that copies this process's environment can find them.
  dropSecretsFromEnv(process.env);
  let generated: string | undefined;
  if (config.apiKeys.length === 0) {
    // A fresh machine still gets a working server; the key lives only in this process.
    generated = `forge_${randomBytes(24).toString('base64url')}`;
    // The operator's own key, so it may also issue enrolment tokens over the API.
    config.apiKeys.push({ userId: 'local', hash: hashKey(generated), admin: true });
  }
  const platform = await startPlatform({ config, logger });
  // Only once it serves: a platform that refuses to start (FORGE_AGENT_USER unusable…) prints no key.
  if (generated)
    console.log(
      `No FORGE_API_KEYS configured: generated a key for user "local", valid until this process exits:\n  ${generated}`,
    );
  console.log(`Forge platform (${config.backend} backend) on ${platform.url}  — dashboard: ${platform.url}/`);
  if (platform.remote) {
    const token = platform.remote.hub.issueEnrolmentToken();
    console.log(
      `Remote agents dial ${platform.remote.url}; an enrolment token (1 h, single use) and the line that joins one:\n  ${token.token}\n  ${joinCommand({ hubUrl: platform.remote.url, token: token.token })}`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info('stopping', { signal });
    stopPlatform(platform, signal, logger).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ForgeError ? `forge platform: ${error.message}` : error);
  process.exit(1);
});
