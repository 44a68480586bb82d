import { ApiError } from '../api-error.js';

/** An absolute-form target (`GET http://host/path HTTP/1.1`, as proxies send): its scheme and authority. */
const ORIGIN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;
const BASE = 'http://platform.invalid';

const invalid = (why: string) => new ApiError(400, 'INVALID_PATH', `The path is not valid: ${why}`);

/**
 * The request's path as sent, checked segment by segment, and its URL for the query. `new URL(req.url)` would
 * resolve `..`, `%2e%2e` and `\` first, so `DELETE …/runs/..` reached `DELETE /agents/:id` (attack round,
 * finding 6). Routing on the raw path, a segment that is a dot segment (plain or percent-encoded), empty, or
 * holds a slash or backslash (plain or encoded) or badly encoded text is a 400: no such path names a resource.
 */
export function requestTarget(raw: string): { pathname: string; url: URL } {
  const target = raw.replace(ORIGIN, '');
  const end = target.search(/[?#]/);
  const pathname = end === -1 ? target : target.slice(0, end);
  if (!pathname.startsWith('/')) throw invalid('it must start with /');
  const segments = pathname.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    // A trailing slash is served as if it were not there; an empty segment anywhere else is not.
    if (segment === '') {
      if (i === segments.length - 1) continue;
      throw invalid('empty segment');
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw invalid('bad percent-encoding');
    }
    if (decoded === '.' || decoded === '..') throw invalid('dot segment');
    if (/[/\\]/.test(decoded)) throw invalid('slash or backslash in a segment');
  }
  const url = new URL(pathname + target.slice(pathname.length), BASE);
  // What routing sees and what the URL says must be the same path, or the two could disagree on a resource.
  if (url.pathname !== pathname) throw invalid('not in normal form');
  return { pathname, url };
}
