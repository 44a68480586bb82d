import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The environment that points the real CLI at a fake API and keeps it off the network: a dummy
 * key, telemetry, auto-update and all non-essential traffic off. Add `HOME` (a scratch dir) to
 * keep sessions and settings out of the user's own.
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
 * The real `claude` executable of the `@anthropic-ai/claude-code` package (its native binary, not
 * the package manager's shell wrapper, which would not pass signals on to it).
 */
export function claudeBinPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@anthropic-ai/claude-code/package.json')), 'bin', 'claude.exe');
}
