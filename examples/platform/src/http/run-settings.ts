import type { AgentRequest, Approvals, Budget } from '@forge/core';
import type { McpServerRef } from '../mcp-catalog.js';
import { checkFields, parseMessage } from './rest-input.js';
import { RunSettingsFields } from './rest-schemas.js';

/** The REST names of the settings an agent may hold as run defaults. */
export const RUN_SETTING_FIELDS = Object.keys(RunSettingsFields);

/** The operator's defaults for every run (FORGE_DEFAULT_APPROVALS, FORGE_DEFAULT_BUDGET), in the library's form. */
export interface RunDefaults {
  approvals?: Approvals;
  budget?: Budget;
}

export interface RunSettings {
  /** The library's fields (approvals, budget, outputSchema…), only those given. */
  request: Partial<AgentRequest>;
  /** MCP servers named, resolved against the catalogue when a message uses them. */
  mcpServers?: McpServerRef[];
}

/** The run settings among a body's fields, as given (what an agent stores). */
export function pickRunSettings(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(body).filter(([k, v]) => RUN_SETTING_FIELDS.includes(k) && v !== undefined && v !== null),
  );
}

/**
 * Checks run settings exactly as a message's fields are checked (same codes, same REST names in errors) and
 * returns them in the library's form.
 */
export function parseRunSettings(settings: Record<string, unknown>): RunSettings {
  checkFields(settings, RUN_SETTING_FIELDS);
  const { request, mcpServers } = parseMessage({ content: '-', ...settings });
  const { prompt: _, ...rest } = request;
  return { request: rest, ...(mcpServers ? { mcpServers } : {}) };
}

/**
 * A run's request from its layers, each field from the most specific one that has it: the message, then the
 * agent's defaults, then the operator's. A field replaces the one below whole (a message's budget is the budget).
 */
export function layerRequest(
  message: AgentRequest,
  agent: RunSettings | undefined,
  operator: RunDefaults,
): AgentRequest {
  return { ...operator, ...agent?.request, ...message } as AgentRequest;
}
