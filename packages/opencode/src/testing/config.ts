import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const FAKE_PROVIDER = 'fake';
export const FAKE_MODEL = 'fake-model';
export const FAKE_PLAIN_MODEL = 'fake-plain';
/** OpenCode gives models named `gpt-…` its `apply_patch` tool instead of `edit` and `write`. */
export const FAKE_GPT_MODEL = 'gpt-5-fake';
/** Priced ($1,000 per million tokens in and out), so OpenCode reports a cost a budget can count. */
export const FAKE_PRICED_MODEL = 'fake-priced';

/** An OpenCode config whose only provider is the fake model server at `url` (ending in `/v1`). */
export function fakeOpencodeConfig(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model: `${FAKE_PROVIDER}/${FAKE_MODEL}`,
    small_model: `${FAKE_PROVIDER}/${FAKE_MODEL}`,
    enabled_providers: [FAKE_PROVIDER],
    provider: {
      [FAKE_PROVIDER]: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Fake LLM',
        options: { baseURL: url, apiKey: 'fake-key' },
        models: {
          // Takes images and has effort variants (OpenCode passes a variant's options to the model request).
          [FAKE_MODEL]: {
            name: 'Fake Model',
            tool_call: true,
            attachment: true,
            modalities: { input: ['text', 'image'], output: ['text'] },
            variants: {
              low: { reasoningEffort: 'low' },
              medium: { reasoningEffort: 'medium' },
              high: { reasoningEffort: 'high' },
            },
            limit: { context: 128000, output: 4096 },
          },
          [FAKE_GPT_MODEL]: { name: 'Fake GPT', tool_call: true, limit: { context: 128000, output: 4096 } },
          [FAKE_PRICED_MODEL]: {
            name: 'Fake Priced Model',
            tool_call: true,
            cost: { input: 1000, output: 1000 },
            limit: { context: 128000, output: 4096 },
          },
          // Text only, no variants: what a request must be refused for.
          [FAKE_PLAIN_MODEL]: {
            name: 'Fake Plain Model',
            tool_call: true,
            limit: { context: 128000, output: 4096 },
          },
        },
      },
    },
    ...extra,
  };
}

/** Writes `opencode.json` into `dir` (the project dir the server is started in). */
export async function writeFakeOpencodeConfig(
  dir: string,
  url: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'opencode.json');
  await writeFile(file, `${JSON.stringify(fakeOpencodeConfig(url, extra), null, 2)}\n`);
  return file;
}

/**
 * An environment that keeps OpenCode off the user's home, config and network: HOME and every
 * XDG dir under `scratch`, model-list fetch, autoupdate and LSP downloads off, and npm pointed
 * at a dead port so nothing is installed behind the test's back.
 */
export function isolatedOpencodeEnv(scratch: string): Record<string, string> {
  return {
    HOME: join(scratch, 'home'),
    XDG_CONFIG_HOME: join(scratch, 'config'),
    XDG_DATA_HOME: join(scratch, 'data'),
    XDG_CACHE_HOME: join(scratch, 'cache'),
    XDG_STATE_HOME: join(scratch, 'state'),
    OPENCODE_DISABLE_MODELS_FETCH: 'true',
    OPENCODE_DISABLE_AUTOUPDATE: 'true',
    OPENCODE_DISABLE_LSP_DOWNLOAD: 'true',
    npm_config_registry: 'http://127.0.0.1:9/',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  };
}

/** The real `opencode` executable of the `opencode-ai` package (the platform binary, no shell wrapper). */
export function opencodeBinPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('opencode-ai/package.json')), 'bin', 'opencode.exe');
}
