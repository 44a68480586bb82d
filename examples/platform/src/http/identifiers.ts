import { ApiError } from '../api-error.js';

/** Run ids as the run manager makes them (`req_` and 32 hex digits), with room for other spellings of the kind. */
export const REQUEST_ID = /^req_[a-z0-9]{1,64}$/;

/** Longest id a provider mints (a permission or question id) that the API passes on. */
export const MAX_ID_LENGTH = 256;
/** C0 controls (NUL among them), DEL, and UTF-16 halves without their pair. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects
export const UNPRINTABLE = /[\u0000-\u001f\u007f]|\p{Cs}/u;

/** A run id from the path or the query, or 400 INVALID_REQUEST_ID: an id of no run is never looked up. */
export function requestIdOf(value: string, where = 'request_id'): string {
  if (!REQUEST_ID.test(value))
    throw new ApiError(400, 'INVALID_REQUEST_ID', `${where} is not a run id (req_…)`, {}, { field: where });
  return value;
}

/**
 * An id another party minted (a provider's permission or question id, a remote agent's name): any printable
 * text up to 256 characters. A control character or a lone surrogate is no one's id: 400 with `code`.
 */
export function identifierOf(value: string, field: string, code: string): string {
  if (value.length > MAX_ID_LENGTH || UNPRINTABLE.test(value))
    throw new ApiError(
      400,
      code,
      `${field} is not a valid id (printable text, at most ${MAX_ID_LENGTH} characters)`,
      {},
      { field },
    );
  return value;
}

/**
 * `?cursor=`: the next_cursor of a previous page, a run's position. Digits that JavaScript holds exactly (and so
 * within the database's bigint), or 400 INVALID_CURSOR.
 */
export function cursorOf(text: string | null): number | undefined {
  if (text === null) return undefined;
  const n = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(n))
    throw new ApiError(400, 'INVALID_CURSOR', 'cursor must be the next_cursor of a previous page');
  return n;
}
