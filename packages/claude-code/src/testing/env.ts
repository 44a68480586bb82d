import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The environment that points the real CLI at a fake API and keeps it off the network: a dummy
 * key, telemetry, auto-update, error reporting and all non-essential traffic off. Add `HOME` (a
 * scratch dir) to keep sessions and settings out of the user's own.
 */
export function fakeAnthropicEnv(url: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: 'sk-ant-offline-fake-key',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  };
}

/**
 * The real `claude` executable of the `@anthropic-ai/claude-code` package: its native binary, not
 * the package manager's shell wrapper (which would not pass signals on). When the package's
 * postinstall has not run, `bin/claude.exe` is a small stub; the platform package's binary is
 * used then.
 */
export function claudeBinPath(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@anthropic-ai/claude-code/package.json');
  const main = join(dirname(pkgJson), 'bin', 'claude.exe');
  if (sizeOf(main) > 1_000_000) return main;
  try {
    const platform = `@anthropic-ai/claude-code-${process.platform}-${process.arch}`;
    const native = join(
      dirname(createRequire(pkgJson).resolve(`${platform}/package.json`)),
      process.platform === 'win32' ? 'claude.exe' : 'claude',
    );
    if (sizeOf(native) > 1_000_000) return native;
  } catch {
    // No platform package: the stub's own message says what to do.
  }
  return main;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
