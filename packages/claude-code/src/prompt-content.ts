import { basename } from 'node:path';
import { type Attachment, UnsupportedError } from '@forge/core';

type Block = Record<string, unknown>;

/** The image types the Messages API takes. */
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** What a base64 image is, from its first bytes (a missing or generic mimeType should not fail the API call). */
function sniffImage(data: string): string | undefined {
  if (data.startsWith('iVBORw0KGgo')) return 'image/png';
  if (data.startsWith('/9j/')) return 'image/jpeg';
  if (data.startsWith('R0lGOD')) return 'image/gif';
  if (data.startsWith('UklGR') && Buffer.from(data.slice(0, 16), 'base64').subarray(8, 12).toString() === 'WEBP')
    return 'image/webp';
  return undefined;
}

const TEXTUAL = /^text\/|[+/](json|xml|yaml|x-yaml|javascript|typescript|csv|markdown)$/;

/**
 * The `content` of the stream-json user message that starts a turn: the prompt alone (a string, as the CLI's
 * own prompt) or, with attachments, a text block and one block per attachment, which the CLI passes to the
 * Messages API as they are. Inline images become `image` blocks, inline PDFs and text files `document` blocks.
 * An attachment given by path only is on the agent's machine (or pod), not here: it is named in a text block,
 * and the model opens it with its Read tool (which reads images too), as it does a path the user mentions.
 * What the API cannot take (an inline binary that is neither an image nor a PDF) is refused before the turn.
 */
export function promptContent(provider: string, prompt: string, attachments?: readonly Attachment[]): string | Block[] {
  if (!attachments?.length) return prompt;
  const blocks: Block[] = [{ type: 'text', text: prompt }];
  for (const [i, a] of attachments.entries()) {
    const name = a.name ?? (a.path ? basename(a.path) : `attachment-${i + 1}`);
    if (a.data === undefined) {
      blocks.push({ type: 'text', text: `Attached ${a.kind === 'image' ? 'image' : 'file'} "${name}": ${a.path}` });
      continue;
    }
    if (a.kind === 'image') {
      const given = a.mimeType && IMAGE_TYPES.includes(a.mimeType) ? a.mimeType : undefined;
      const mediaType = given ?? sniffImage(a.data);
      if (!mediaType)
        throw new UnsupportedError(
          provider,
          `image attachment "${name}" (only PNG, JPEG, GIF and WebP reach the model)`,
        );
      blocks.push({ type: 'image', source: { type: 'base64', media_type: mediaType, data: a.data } });
      continue;
    }
    const mime = a.mimeType ?? 'text/plain';
    if (mime === 'application/pdf') {
      blocks.push({
        type: 'document',
        title: name,
        source: { type: 'base64', media_type: 'application/pdf', data: a.data },
      });
    } else if (TEXTUAL.test(mime)) {
      blocks.push({
        type: 'document',
        title: name,
        source: { type: 'text', media_type: 'text/plain', data: Buffer.from(a.data, 'base64').toString('utf8') },
      });
    } else {
      throw new UnsupportedError(
        provider,
        `file attachment "${name}" of type ${mime} (inline files must be text or PDF; give a path instead)`,
      );
    }
  }
  return blocks;
}
