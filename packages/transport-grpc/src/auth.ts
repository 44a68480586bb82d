import { createHash, timingSafeEqual } from 'node:crypto';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { AgentService } from './gen/forge/agent/v1/agent_pb.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Compares SHA-256 digests, always 32 bytes: neither the content nor the length of the token leaks through timing. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Server side: AgentService calls must carry `authorization: Bearer <token>`. Health checks stay
 * open, so probes need no secret. `token` may be a function (e.g. to accept a rotating set).
 */
export function requireBearerToken(token: string | ((presented: string) => boolean)): Interceptor {
  const accepts = typeof token === 'string' ? (t: string) => sameSecret(t, token) : token;
  return (next) => async (req) => {
    if (req.service.typeName === AgentService.typeName) {
      const header = req.header.get('authorization') ?? '';
      const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1];
      if (!presented || !accepts(presented)) {
        throw new ConnectError('A valid bearer token is required', Code.Unauthenticated);
      }
    }
    return next(req);
  };
}

/** Client side: sends `authorization: Bearer <token>` (or what `token()` returns) on every call. */
export function bearerToken(token: string | (() => string | Promise<string>)): Interceptor {
  return (next) => async (req) => {
    req.header.set('authorization', `Bearer ${typeof token === 'string' ? token : await token()}`);
    return next(req);
  };
}
