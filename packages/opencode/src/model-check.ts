import { UnsupportedFieldError, type AgentRequest } from '@forge/core';
import type { OpencodeClient } from './client.js';
import { splitModel } from './prompt-body.js';

interface ProviderList {
  providers?: Array<{
    id: string;
    models?: Record<string, { variants?: Record<string, unknown>; capabilities?: { input?: { image?: boolean } } }>;
  }>;
}

/**
 * `effort` and images depend on the model, not on OpenCode: a variant the model does not define is silently
 * ignored, and an image for a model without image input reaches it as the text "Cannot read …". So a run that
 * uses either asks the server what the model has (`GET /config/providers`) and refuses the field before any
 * session or prompt exists, instead of dropping it.
 */
export async function refuseWhatTheModelLacks(
  request: AgentRequest,
  client: OpencodeClient,
  settings: { directory?: string; model?: string },
  signal: AbortSignal,
): Promise<void> {
  const images = (request.attachments ?? []).some((a) => a.kind === 'image');
  if (request.effort === undefined && !images) return;
  const opts = { ...(settings.directory ? { directory: settings.directory } : {}), signal };
  let ref = request.model ?? settings.model;
  if (!ref) {
    const config = (await client.request('GET', '/config', opts)) as { model?: unknown } | undefined;
    if (typeof config?.model === 'string') ref = config.model;
  }
  const fields = (reason: string) => {
    const refused: string[] = [];
    if (request.effort !== undefined) refused.push('effort');
    if (images) refused.push('attachments (image)');
    return new UnsupportedFieldError('opencode', [`${refused.join(', ')} (${reason})`]);
  };
  if (!ref) throw fields('no model named in the request, the agent or the server config');
  const { providerID, modelID } = splitModel(ref);
  const list = (await client.request('GET', '/config/providers', opts)) as ProviderList | undefined;
  const model = list?.providers?.find((p) => p.id === providerID)?.models?.[modelID];
  if (!model) throw fields(`model ${ref} is not among the server's models`);
  const refused: string[] = [];
  if (request.effort !== undefined && !Object.hasOwn(model.variants ?? {}, request.effort)) {
    const known = Object.keys(model.variants ?? {});
    refused.push(
      `effort (model ${ref} has no variant "${request.effort}"; its variants: ${known.length ? known.join(', ') : 'none'})`,
    );
  }
  if (images && model.capabilities?.input?.image !== true) {
    refused.push(`attachments (image) (model ${ref} takes no image input)`);
  }
  if (refused.length) throw new UnsupportedFieldError('opencode', refused);
}
