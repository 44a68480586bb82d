import { claudeBinPath, fakeAnthropicEnv } from '@forge/claude-code/testing';
import { startPlatform } from '../app.js';
import { loadConfig } from '../config.js';
import { jsonLogger } from '../logger.js';

/**
 * The real platform (startPlatform, configured from the environment like src/main.ts, with its own provider
 * registry — so claude-code keeps sessions in the store) running the real Claude Code CLI against the fake
 * Messages API at FORGE_TEST_ANTHROPIC_URL, with FORGE_TEST_AGENT_HOME as the agents' HOME. The sessions fault test
 * kills it with SIGKILL between two messages of one conversation.
 */
const config = loadConfig([], { ...process.env, FORGE_DEFAULT_PROVIDER: 'claude-code' });
const platform = await startPlatform({
  config: { ...config, claudeBin: claudeBinPath() },
  claudeEnv: { ...fakeAnthropicEnv(process.env.FORGE_TEST_ANTHROPIC_URL!), HOME: process.env.FORGE_TEST_AGENT_HOME! },
  logger: jsonLogger({ level: 'warn' }),
  pollMs: 50,
});
console.log(JSON.stringify({ url: platform.url, instance: platform.runs.instanceId }));
process.on('SIGTERM', () => void platform.close().then(() => process.exit(0)));
