import type { Logger } from '@forge/core';
import type { Platform } from './app.js';

/**
 * How a platform process stops on a signal. SIGTERM (a rolling restart): not ready at once, pod runs are
 * handed to another replica, local ones get FORGE_DRAIN_MS to finish, then close. SIGINT (a terminal's
 * Ctrl-C): close without waiting.
 */
export async function stopPlatform(platform: Platform, signal: string, logger: Logger): Promise<void> {
  if (signal === 'SIGTERM') {
    const report = await platform.drain();
    logger.info('drained', { ...report });
  }
  await platform.close();
}
