import { methods } from '@agentclientprotocol/sdk';
import { type PermissionMode, UnsupportedError } from '@forge/core';
import { type AgentProcess, asForgeError } from './agent-process.js';

/** What the agent said about a session's modes, models and config options (kept per session). */
export interface SessionState {
  modes?: { currentModeId: string; availableModes: Array<{ id: string }> } | null;
  models?: { currentModelId: string; availableModels: Array<{ modelId: string }> } | null;
  configOptions?: Array<Record<string, unknown>> | null;
}

/** Puts the session in the agent mode for a Forge permission mode (`modes` maps the names where they differ). */
export async function applyMode(
  proc: AgentProcess,
  sessionId: string,
  state: SessionState,
  wanted: PermissionMode | undefined,
  { name, modes }: { name: string; modes: Partial<Record<PermissionMode, string>> },
): Promise<void> {
  if (!wanted) return;
  const modeId = modes[wanted] ?? wanted;
  const offered = state.modes?.availableModes?.map((m) => m.id) ?? [];
  if (state.modes?.currentModeId === modeId) return;
  if (!offered.includes(modeId)) {
    if (wanted === 'default' && !offered.length) return;
    throw new UnsupportedError(
      name,
      `permission mode "${wanted}" (agent mode "${modeId}"; the agent offers ${offered.length ? offered.join(', ') : 'no modes'})`,
    );
  }
  try {
    await proc.connection.agent.request(methods.agent.session.setMode, { sessionId, modeId });
  } catch (error) {
    throw await asForgeError(proc, error, 'session/set_mode');
  }
  if (state.modes) state.modes.currentModeId = modeId;
}

/** Selects the model: with `session/set_model` where the agent lists models, else its `model` config option. */
export async function applyModel(
  proc: AgentProcess,
  sessionId: string,
  state: SessionState,
  wanted: string | undefined,
  name: string,
): Promise<void> {
  if (!wanted) return;
  const agent = proc.connection.agent;
  try {
    if (state.models) {
      if (state.models.currentModelId === wanted) return;
      const offered = state.models.availableModels.map((m) => m.modelId);
      if (!offered.includes(wanted)) {
        throw new UnsupportedError(name, `model "${wanted}" (the agent offers ${offered.join(', ')})`);
      }
      // `session/set_model` is what these agents implement; SDK 2.4 has it only as a custom method.
      await agent.request('session/set_model', { sessionId, modelId: wanted });
      state.models.currentModelId = wanted;
      return;
    }
    const option = state.configOptions?.find((o) => o.category === 'model' && o.type === 'select');
    if (option) {
      await agent.request(methods.agent.session.setConfigOption, {
        sessionId,
        configId: String(option.id),
        value: wanted,
      });
      return;
    }
  } catch (error) {
    throw await asForgeError(proc, error, 'session/set_model');
  }
  throw new UnsupportedError(name, 'model selection (the agent offers no models)');
}
