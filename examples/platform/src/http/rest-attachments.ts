import type { Attachment } from '@forge/core';
import { ValidationError } from '@forge/core';
import { ApiError } from '../api-error.js';

/** Decoded bytes of all of a message's attachments together, unless the operator sets FORGE_MAX_ATTACHMENT_BYTES. */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const FIELDS = ['kind', 'data', 'mime_type', 'name'];

const bad = (path: string, message: string, code = 'INVALID_ATTACHMENT') =>
  new ValidationError(code, `${path}: ${message}`, [{ path, code, message }]);

/** The bytes base64 text decodes to, without decoding it. */
const decodedSize = (data: string) => (data.length / 4) * 3 - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);

/**
 * A message's `attachments` as core's: inline base64 only (a `path` would name a file on the agent's host,
 * which is not the user's to read), images with an image MIME type, all of them together at most `maxBytes`
 * decoded — else 413 PAYLOAD_TOO_LARGE with the limit and the size, before anything is stored.
 */
export function parseAttachments(value: unknown, maxBytes: number): Attachment[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw bad('attachments', 'must be an array');
  let total = 0;
  const out = value.map((item: unknown, i): Attachment => {
    const path = `attachments.${i}`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw bad(path, 'must be an object');
    const a = item as Record<string, unknown>;
    if (Object.hasOwn(a, 'path'))
      throw bad(`${path}.path`, 'a path on the agent’s host cannot be attached; send the content as base64 data');
    const unknown = Object.keys(a).find((k) => !FIELDS.includes(k));
    if (unknown !== undefined) throw bad(`${path}.${unknown}`, `unknown field "${unknown}"`, 'UNKNOWN_FIELD');
    if (a.kind !== 'image' && a.kind !== 'file') throw bad(`${path}.kind`, 'must be "image" or "file"');
    if (typeof a.data !== 'string' || !a.data || a.data.length % 4 !== 0 || !BASE64.test(a.data))
      throw bad(`${path}.data`, 'must be non-empty base64 (standard alphabet, padded)');
    for (const key of ['mime_type', 'name'] as const)
      if (a[key] !== undefined && (typeof a[key] !== 'string' || !a[key]))
        throw bad(`${path}.${key}`, 'must be a non-empty string');
    const mimeType = a.mime_type as string | undefined;
    if (a.kind === 'image' && !/^image\/[a-z0-9.+-]+$/i.test(mimeType ?? ''))
      throw bad(`${path}.mime_type`, 'an image needs its MIME type (image/png, image/jpeg, …)');
    total += decodedSize(a.data);
    if (total > maxBytes)
      throw new ApiError(
        413,
        'PAYLOAD_TOO_LARGE',
        `Attachments may hold at most ${maxBytes} bytes together (decoded); ${path} brings them to ${total}`,
        {},
        { limit: maxBytes, size: total, path },
      );
    return {
      kind: a.kind,
      data: a.data,
      ...(mimeType !== undefined ? { mimeType } : {}),
      ...(a.name !== undefined ? { name: a.name as string } : {}),
    };
  });
  return out;
}

/** The largest body a message may have: its attachments' base64 and room for everything else. */
export const messageBodyLimit = (maxAttachmentBytes: number) => Math.ceil(maxAttachmentBytes / 3) * 4 + 1024 * 1024;
