import type { ProcessRunner } from '@forge/core';
import { probeVersion, type VersionProbe, type VersionProbeTarget } from '@forge/core/internal';

export type { VersionProbe };

const VERSION = /^\s*v?(\d+\.\d+\.\d+[\w.+-]*)/;

/** Runs `claude --version` through the runner (core's `probeVersion`). Never throws. */
export function probeClaudeVersion(
  runner: ProcessRunner,
  bin: string,
  target: VersionProbeTarget,
): Promise<VersionProbe> {
  return probeVersion(runner, bin, { ...target, pattern: VERSION });
}
