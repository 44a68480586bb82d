import { z } from 'zod';
import type { Operation } from '../http/openapi.js';

export const AttachTicketBody = z.strictObject({
  ticket: z.string(),
  expires_at: z.iso.datetime(),
  session: z.string(),
  url: z.string(),
});

const AGENT_404 = { 404: 'AGENT_NOT_FOUND (also for another user’s agent)' };
const bool = z.enum(['true', 'false']);

/** The attach routes in the OpenAPI document (http/openapi.ts spreads them in). */
export const ATTACH_OPERATIONS: Record<string, Partial<Record<'get' | 'post', Operation>>> = {
  '/api/v1/agents/{id}/attach-tickets': {
    post: {
      summary: 'A single-use ticket (30 s) to open the attach WebSocket where no header can be set (browsers)',
      ok: [201, AttachTicketBody],
      errors: { ...AGENT_404, 429: 'TOO_MANY_TICKETS', 501: 'ATTACH_UNSUPPORTED (the backend has no attach)' },
    },
  },
  '/api/v1/agents/{id}/attach': {
    get: {
      summary:
        'A process in the agent’s workspace over a WebSocket (`Authorization: Bearer` or `?ticket=`), speaking the ' +
        'Kubernetes exec channel protocol: binary frames whose first byte is the channel — 0 stdin, 1 stdout, ' +
        '2 stderr, 3 status (a Kubernetes Status with the exit code, then the socket closes), 4 resize ' +
        '`{"Width","Height"}`, 255 close (`[255, 0]`: end of stdin). The response header x-forge-attach-session ' +
        'names the session: re-attach with ?session= within the grace period (30 s) to see what was missed.',
      query: {
        command: { schema: z.string(), description: 'argv, repeatable; default the login shell.' },
        tty: { schema: bool, description: 'A terminal (stdout and stderr merged, resize works).' },
        cols: { schema: z.int().min(1).max(65535), description: 'Terminal width.' },
        rows: { schema: z.int().min(1).max(65535), description: 'Terminal height.' },
        ticket: { schema: z.string(), description: 'From POST attach-tickets, instead of a key.' },
        session: { schema: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/), description: 'Re-attach to this session.' },
        stdin: { schema: bool, description: 'Kubernetes exec’s own; accepted and ignored.' },
        stdout: { schema: bool, description: 'Kubernetes exec’s own; accepted and ignored.' },
        stderr: { schema: bool, description: 'Kubernetes exec’s own; accepted and ignored.' },
        container: { schema: z.string(), description: 'Kubernetes exec’s own; accepted and ignored.' },
      },
      ok: [101, undefined],
      upgrade: 'Switching Protocols: a WebSocket with subprotocol v5.channel.k8s.io (or v4.channel.k8s.io)',
      errors: {
        ...AGENT_404,
        400: 'INVALID_ATTACH_QUERY or UNSUPPORTED_PROTOCOL',
        401: 'INVALID_TICKET (unknown, used or expired), INVALID_RELAY (a relay header not signed by a replica)',
        403: 'ATTACH_DISABLED (a remote agent whose operator set FORGE_ALLOW_ATTACH=0)',
        409: 'SESSION_ATTACHED, AGENT_NOT_READY or AGENT_OFFLINE (a remote agent not connected)',
        421: 'AGENT_ON_OTHER_REPLICA (a remote agent whose link moved to another instance while the upgrade was relayed: retry)',
        426: 'UPGRADE_REQUIRED (a plain GET)',
        429: 'ATTACH_LIMIT (open attachments per user)',
        501: 'ATTACH_UNSUPPORTED (the backend, or a remote agent’s older program)',
        502: 'REPLICA_UNREACHABLE (the instance holding a remote agent’s link could not be reached to relay the upgrade)',
      },
    },
  },
};
