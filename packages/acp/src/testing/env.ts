import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { geminiSettings, writeGeminiSettings } from '../presets.js';

const require = createRequire(import.meta.url);

/** The `gemini` executable of the `@google/gemini-cli` package (a node script with a shebang). */
export function geminiBinPath(): string {
  return join(dirname(require.resolve('@google/gemini-cli/package.json')), 'bundle', 'gemini.js');
}

/** The `claude-code-acp` executable of the `@zed-industries/claude-code-acp` package. */
export function claudeCodeAcpPath(): string {
  return require.resolve('@zed-industries/claude-code-acp/dist/index.js');
}

/**
 * Prepares a scratch HOME for the real Gemini CLI against a fake API: settings that select the API
 * key auth type, turn telemetry and update checks off, and try each model call once (so a failing
 * API fails the turn at once instead of retrying for minutes). Returns the env for `geminiCli`.
 */
export async function fakeGeminiEnv(url: string, home: string): Promise<Record<string, string>> {
  await writeGeminiSettings(home, geminiSettings({ maxAttempts: 1 }));
  await mkdir(join(home, 'tmp'), { recursive: true });
  return {
    HOME: home,
    GEMINI_API_KEY: 'offline-fake-key',
    GOOGLE_GEMINI_BASE_URL: url,
    TMPDIR: join(home, 'tmp'),
    TERM: 'dumb',
    NO_COLOR: '1',
  };
}
