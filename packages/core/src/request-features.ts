import type { AgentCapabilities, Declaration } from './agent.js';
import { UnsupportedFieldError } from './errors.js';
import type { AgentRequest } from './request.js';

/** The capabilities that stand for request fields: a request using one needs the adapter to declare it. */
export const REQUEST_FEATURES = [
  'attachments',
  'images',
  'systemPrompt',
  'toolFilter',
  'maxTurns',
  'env',
  'mcpServers',
  'structuredOutput',
  'effort',
  'approvals',
  'questionDeadlines',
  'budget',
  'fork',
] as const satisfies readonly (keyof AgentCapabilities)[];

export type RequestFeature = (typeof REQUEST_FEATURES)[number];

/** The features a request uses, each with the request field that uses it (as the error names it). */
export function featuresUsed(request: AgentRequest): { feature: RequestFeature; field: string }[] {
  const used: { feature: RequestFeature; field: string }[] = [];
  const add = (feature: RequestFeature, field: string) => used.push({ feature, field });
  const kinds = new Set((request.attachments ?? []).map((a) => a.kind));
  if (kinds.has('file')) add('attachments', 'attachments');
  if (kinds.has('image')) add('images', 'attachments (image)');
  if (request.systemPrompt !== undefined) add('systemPrompt', 'systemPrompt');
  // An empty allow-list means "no tools", which only a tool filter can honour; an empty deny-list asks nothing.
  if (request.allowedTools !== undefined) add('toolFilter', 'allowedTools');
  if (request.disallowedTools?.length) add('toolFilter', 'disallowedTools');
  if (request.maxTurns !== undefined) add('maxTurns', 'maxTurns');
  if (request.env && Object.keys(request.env).length > 0) add('env', 'env');
  if (request.mcpServers?.length) add('mcpServers', 'mcpServers');
  if (request.outputSchema !== undefined) add('structuredOutput', 'outputSchema');
  if (request.effort !== undefined) add('effort', 'effort');
  if (request.approvals !== undefined) add('approvals', 'approvals');
  if (request.questions?.unanswered !== undefined) add('questionDeadlines', 'questions');
  if (request.budget !== undefined) add('budget', 'budget');
  if (request.fork) add('fork', 'fork');
  return used;
}

/** The request fields the declaration does not cover; probed capabilities are left to the run. */
export function unsupportedFields(request: AgentRequest, declaration: Declaration): string[] {
  const fields = featuresUsed(request)
    .filter(({ feature }) => declaration.capabilities[feature] === false && !declaration.probed.includes(feature))
    .map(({ field }) => field);
  return [...new Set(fields)];
}

/** Throws UnsupportedFieldError (UNSUPPORTED_FIELD) naming every field the declaration does not cover. */
export function refuseUnsupportedFields(provider: string, request: AgentRequest, declaration: Declaration): void {
  const fields = unsupportedFields(request, declaration);
  if (fields.length > 0) throw new UnsupportedFieldError(provider, fields);
}

/**
 * `budget.maxCostUsd` needs a cost to count: the provider's (`usageCost`) or one priced from `pricing`. Without
 * either the limit could not be kept, so it is refused (UNSUPPORTED_FIELD) rather than ignored.
 */
export function refuseUncountableCost(
  provider: string,
  request: AgentRequest,
  declaration: Declaration,
  hasPricing: boolean,
): void {
  if (request.budget?.maxCostUsd === undefined || declaration.capabilities.usageCost || hasPricing) return;
  throw new UnsupportedFieldError(provider, ['budget.maxCostUsd']);
}
