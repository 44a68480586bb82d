import type { ProcessRunner } from '@forge/core';
import { probeVersion, type VersionProbe, type VersionProbeTarget } from '@forge/core/internal';

export type { VersionProbe };

/** `codex-cli 0.171.0` (the CLI) — the name is optional so a wrapper printing the bare version passes. */
const VERSION = /^\s*(?:codex(?:-cli)?\s+)?v?(\d+\.\d+\.\d+[\w.+-]*)/;

/**
 * Runs `codex --version` through the runner (core's `probeVersion`). Never throws. The npm wrapper without its
 * native package prints no version and explains itself on stderr: then the CLI is unavailable.
 */
export function probeCodexVersion(
  runner: ProcessRunner,
  bin: string,
  target: VersionProbeTarget,
): Promise<VersionProbe> {
  return probeVersion(runner, bin, {
    ...target,
    pattern: VERSION,
    noVersion: (out, err) => {
      const lines = (out.trim() || err.trim()).split('\n');
      // The wrapper's own sentence (`Error: Missing optional dependency …`) rather than its stack's `throw new Error(`.
      const said = lines.find((l) => /^\s*Error:/.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? out.trim();
      const probe: VersionProbe = { error: `"${bin} --version" printed no version: ${said.slice(0, 300)}` };
      if (/Missing optional dependency/.test(err)) probe.unavailable = true;
      return probe;
    },
  });
}
