import type { ForgeStore } from '@forge/store';
import type { AgentRecord } from '../backends/backend.js';
import type { McpResolver } from '../mcp-catalog.js';
import { layerRequest, parseRunSettings, type RunDefaults } from '../http/run-settings.js';
import type { SpareRequest } from './spare-keeper.js';

/**
 * The options a message without any of its own runs with on `agent` — its stored settings (MCP servers resolved)
 * over the operator's defaults — as the message route layers them: what the agent's first spare is shaped by.
 */
export function agentDefaults(
  store: Pick<ForgeStore, 'agentSettings'>,
  mcp: McpResolver,
  operator: RunDefaults,
): (agent: AgentRecord) => Promise<SpareRequest> {
  return async (agent) => {
    const saved = await store.agentSettings.get(agent.userId, agent.agentId);
    const defaults = saved ? parseRunSettings(saved) : undefined;
    const { prompt: _, ...request } = layerRequest({ prompt: '' }, defaults, operator);
    if (defaults?.mcpServers) request.mcpServers = await mcp.resolve(defaults.mcpServers);
    return request;
  };
}
