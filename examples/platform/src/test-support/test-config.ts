import { loadConfig, type PlatformConfig } from '../config.js';

/**
 * The platform's config as a test starts it in-process: loadConfig's defaults over `env` (not process.env), with no
 * spare agent processes. FORGE_PREWARM_MAX defaults to one per core, and every spare is a whole Claude Code CLI start
 * (~1–2 s of CPU) the test never uses; the prewarm tests (src/prewarm/) turn them on themselves.
 */
export function testConfig(env: NodeJS.ProcessEnv = {}): PlatformConfig {
  return { ...loadConfig([], env), prewarmMax: 0 };
}
