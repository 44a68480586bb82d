import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UnsupportedError, ValidationError, type Attachment, type RunContext } from '@forge/core';
import type { FilePart, PromptBody } from './client.js';

export interface PromptSettings {
  directory?: string;
  agent?: string;
  model?: string;
}

export function splitModel(model: string): { providerID: string; modelID: string } {
  const slash = model.indexOf('/');
  if (slash <= 0 || slash === model.length - 1) {
    throw new UnsupportedError(
      'opencode',
      `model "${model}" (use "<providerID>/<modelID>", e.g. "anthropic/claude-sonnet-4")`,
    );
  }
  return { providerID: model.slice(0, slash), modelID: model.slice(slash + 1) };
}

// OpenCode needs a MIME type on every file part; the request may name only a file.
const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/markdown',
  json: 'application/json',
};

function mimeOf(attachment: Attachment, index: number): string {
  if (attachment.mimeType) return attachment.mimeType;
  const name = attachment.name ?? attachment.path ?? '';
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  const known = ext ? MIME_BY_EXTENSION[ext] : undefined;
  if (known) return known;
  if (attachment.kind === 'file') return 'text/plain';
  throw new ValidationError(
    'INVALID_ATTACHMENT',
    `attachments[${index}]: an image needs a mimeType (or a known extension)`,
    [
      {
        path: `attachments.${index}.mimeType`,
        code: 'INVALID_ATTACHMENT',
        message: 'no mimeType and no known extension',
      },
    ],
  );
}

/**
 * An attachment as a file part: inline data becomes a `data:` URL, a path a `file://` URL that the server reads
 * (the path is on the server's machine; a relative one is taken from the run's directory).
 */
export function filePart(attachment: Attachment, index: number, directory: string | undefined): FilePart {
  const mime = mimeOf(attachment, index);
  let url: string;
  let filename = attachment.name;
  if (attachment.data !== undefined) url = `data:${mime};base64,${attachment.data}`;
  else {
    const path = attachment.path!;
    const absolute = isAbsolute(path) || !directory ? path : join(directory, path);
    url = pathToFileURL(absolute).href;
    filename ??= path.split('/').pop();
  }
  return { type: 'file', mime, url, ...(filename ? { filename } : {}) };
}

export function promptBody(ctx: RunContext, settings: PromptSettings): PromptBody {
  const { request } = ctx;
  const body: PromptBody = { parts: [{ type: 'text', text: request.prompt }] };
  for (const [i, a] of (request.attachments ?? []).entries()) body.parts.push(filePart(a, i, settings.directory));
  const model = request.model ?? settings.model;
  if (model) body.model = splitModel(model);
  const agent = request.permissionMode === 'plan' ? 'plan' : settings.agent;
  if (agent) body.agent = agent;
  if (request.systemPrompt) body.system = request.systemPrompt;
  if (request.allowedTools || request.disallowedTools) {
    const tools: Record<string, boolean> = {};
    // An allow-list switches everything else off; OpenCode's `*` key covers tools not named.
    if (request.allowedTools) {
      tools['*'] = false;
      for (const t of request.allowedTools) tools[t] = true;
    }
    for (const t of request.disallowedTools ?? []) tools[t] = false;
    body.tools = tools;
  }
  if (request.outputSchema) body.format = { type: 'json_schema', schema: request.outputSchema };
  // OpenCode names reasoning levels as model variants; model-check.ts made sure this model has one of that name.
  if (request.effort) body.variant = request.effort;
  return body;
}
