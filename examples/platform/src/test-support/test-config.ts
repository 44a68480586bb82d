import { preparePgliteTemplate } from '@forge/store/testing';
import { loadConfig, type PlatformConfig } from '../config.js';

// The platforms a test process starts open new PGlite data dirs: unpacked from this process's one initialised
// database instead of each running initdb (~6.5 s of CPU). Made once per process, when a harness is first loaded.
await preparePgliteTemplate();

/**
 * The platform's config as a test starts it in-process: loadConfig's defaults over `env` (not process.env), with no
 * spare agent processes. FORGE_PREWARM_MAX defaults to one per core, and every spare is a whole Claude Code CLI start
 * (~1.7 s of CPU) the test never uses; the prewarm tests (src/prewarm/) turn them on themselves.
 */
export function testConfig(env: NodeJS.ProcessEnv = {}): PlatformConfig {
  return { ...loadConfig([], env), prewarmMax: 0 };
}
