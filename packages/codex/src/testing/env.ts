import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { CodexModelProvider } from '../args.js';

const TARGETS: Record<string, string> = {
  'linux-x64': 'x86_64-unknown-linux-musl',
  'linux-arm64': 'aarch64-unknown-linux-musl',
  'darwin-x64': 'x86_64-apple-darwin',
  'darwin-arm64': 'aarch64-apple-darwin',
};

/**
 * The real `codex` executable of the `@openai/codex` package: its native binary (in the platform
 * package `@openai/codex-<platform>-<arch>`), not the Node wrapper `bin/codex.js`, so signals reach
 * the CLI itself. Falls back to the wrapper when the native package is missing (the wrapper then
 * says what to install).
 */
export function codexBinPath(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@openai/codex/package.json');
  const wrapper = join(dirname(pkgJson), 'bin', 'codex.js');
  const key = `${process.platform}-${process.arch}`;
  const target = TARGETS[key];
  if (!target) return wrapper;
  try {
    const nativePkg = createRequire(pkgJson).resolve(`@openai/codex-${key}/package.json`);
    const native = join(dirname(nativePkg), 'vendor', target, 'bin', 'codex');
    if (statSync(native).size > 1_000_000) return native;
  } catch {
    // No platform package: the wrapper's own message says what to do.
  }
  return wrapper;
}

/**
 * A provider pointing the CLI at a fake Responses API (`startFakeResponsesApi().url`), with a dummy
 * key and the CLI's own retries off, so an error answer fails at once instead of after ~25 s.
 */
export function fakeResponsesProvider(url: string, overrides: Partial<CodexModelProvider> = {}): CodexModelProvider {
  return {
    id: 'fake',
    name: 'Fake',
    baseUrl: url,
    envKey: 'FAKE_API_KEY',
    apiKey: 'sk-offline-fake-key',
    requestMaxRetries: 0,
    streamMaxRetries: 0,
    ...overrides,
  };
}
