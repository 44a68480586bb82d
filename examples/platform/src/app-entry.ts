/**
 * What a program embedding the platform in-process needs (the bench's prewarm row): start it from a config read
 * the way `pnpm start` reads it.
 */
export { parseApiKeyList } from './api-keys.js';
export { startPlatform, type Platform } from './app.js';
export { loadConfig } from './config.js';
