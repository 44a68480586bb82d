import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROGRAM_BUNDLES_ENV, programBundlesRoot } from './program-bundle.js';

/**
 * Vitest's global setup: one folder for the run's bundled test programs (program-bundle.ts), shared by every
 * worker, so each program is bundled once per run rather than once per worker; removed when the run ends.
 */
export default function setup(): () => void {
  // Vitest runs a global setup once per project (the shared and the isolated one): one folder serves both.
  if (process.env[PROGRAM_BUNDLES_ENV]) return () => {};
  mkdirSync(programBundlesRoot(), { recursive: true });
  const dir = mkdtempSync(join(programBundlesRoot(), 'run-'));
  process.env[PROGRAM_BUNDLES_ENV] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
