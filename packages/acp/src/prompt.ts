import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ContentBlock, PromptCapabilities } from '@agentclientprotocol/sdk';
import { type Attachment, UnsupportedError } from '@forge/core';

/**
 * The `session/prompt` content of a request: its text, then one block per attachment. A path
 * becomes a `resource_link` (every agent must take those; the path is on the agent's machine);
 * inline data becomes an `image` block (needs `promptCapabilities.image`) or an embedded
 * `resource` (needs `embeddedContext`). What the agent cannot take is refused before the session opens, with
 * the code core's declaration refusals carry (UNSUPPORTED_FIELD): `images` is a probed capability.
 */
export function promptBlocks(
  provider: string,
  prompt: string,
  attachments: readonly Attachment[] | undefined,
  caps: PromptCapabilities | undefined,
): ContentBlock[] {
  const blocks: ContentBlock[] = [{ type: 'text', text: prompt }];
  for (const [i, a] of (attachments ?? []).entries()) {
    const name = a.name ?? (a.path ? basename(a.path) : `attachment-${i + 1}`);
    if (a.data === undefined) {
      blocks.push({
        type: 'resource_link',
        uri: pathToFileURL(a.path!).href,
        name,
        ...(a.mimeType ? { mimeType: a.mimeType } : {}),
      });
      continue;
    }
    if (a.kind === 'image') {
      if (!caps?.image) throw notOffered(provider, 'image attachments', 'image', 'attachments (image)');
      blocks.push({ type: 'image', data: a.data, mimeType: a.mimeType ?? 'image/png' });
      continue;
    }
    if (!caps?.embeddedContext) throw notOffered(provider, 'inline file attachments', 'embeddedContext', 'attachments');
    const mimeType = a.mimeType ?? 'application/octet-stream';
    const uri = a.path ? pathToFileURL(a.path).href : `attachment:///${encodeURIComponent(name)}`;
    const textual = /^text\/|[+/](json|xml|yaml|javascript|typescript)$/.test(mimeType);
    blocks.push({
      type: 'resource',
      resource: textual
        ? { uri, mimeType, text: Buffer.from(a.data, 'base64').toString('utf8') }
        : { uri, mimeType, blob: a.data },
    });
  }
  return blocks;
}

/** An attachment kind the agent's `promptCapabilities` do not offer: refused, naming the capability and field. */
function notOffered(provider: string, what: string, capability: string, field: string): UnsupportedError {
  return new UnsupportedError(
    provider,
    `${what} (the agent does not offer promptCapabilities.${capability})`,
    'UNSUPPORTED_FIELD',
    { fields: [field] },
  );
}
