import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import type { ReplicaAddresses } from '@forge/store';
import { ApiError } from '../api-error.js';
import type { AgentRecord } from '../backends/backend.js';
import type { RemoteAgents } from '../remote-agents.js';

/** Who a relayed attach is for, as the replica that received the client's WebSocket established it. */
export interface RelayedAttach {
  userId: string;
  keyId?: string;
  agentId: string;
  /** The attach session (the client's, or the one its ticket named): the holder keeps it for re-attaching. */
  session: string;
  /** The client's address, for the log. */
  remote: string;
}

/** What AttachService asks of the relay between replicas. */
export interface AttachRelay {
  /**
   * The identity a relayed upgrade carries: undefined when the request was not relayed. Throws (401) when the
   * relay header is forged, expired, for another instance or used before.
   */
  accept(req: IncomingMessage, agentId: string): RelayedAttach | undefined;
  /** The address of the replica serving this agent's attach, when that is not this one. */
  elsewhere(agent: AgentRecord): Promise<string | undefined>;
  /** Opens the upgrade at `target` for `who` and joins the two sockets byte for byte once it is accepted. */
  forward(req: IncomingMessage, socket: Duplex, head: Buffer, target: string, who: RelayedAttach): Promise<void>;
}

export const RELAY_HEADER = 'x-forge-attach-relay';
const TOKEN_TTL_MS = 10_000;

/** The replicas' shared relay key: FORGE_REPLICA_SECRET, else derived from the hub secret they already share. */
export function replicaRelayKey(replicaSecret: string | undefined, hubSecret: string | undefined): Buffer | undefined {
  if (replicaSecret) return Buffer.from(replicaSecret);
  if (!hubSecret) return undefined;
  // A key of its own (HKDF), so a relay token never doubles as anything signed with the hub secret.
  return Buffer.from(hkdfSync('sha256', hubSecret, 'forge', 'forge attach relay between replicas v1', 32));
}

/**
 * Where the other replicas reach this one: the address it listens on, or with a wildcard host (0.0.0.0, ::) the
 * machine's first non-loopback IPv4 address (a pod's IP) — set FORGE_REPLICA_URL when neither is right.
 */
export function replicaUrlOf(listening: string, host: string, port: number): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return listening;
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return `http://${a.address}:${port}`;
  return `http://127.0.0.1:${port}`;
}

export interface ReplicaRelayOptions {
  key: Buffer;
  /** This instance's id: a token names the instance it is for. */
  instanceId: string;
  addresses: Pick<ReplicaAddresses, 'holderOf'>;
  remote: () => Pick<RemoteAgents, 'agentIdOf'> | undefined;
  now?: () => number;
}

/**
 * Attach to a remote agent whose dial-home link another replica holds: the replica that received the WebSocket
 * checks the key or ticket and the ownership, then opens the same upgrade at the holder (its address from the
 * store) with a signed, single-use relay header naming the user, agent and session, and splices the two TCP
 * connections together. The holder checks ownership again and runs the session as for a local client; the bytes
 * pass this replica unparsed, so a keystroke costs one more loopback or LAN hop and nothing else.
 */
export class ReplicaRelay implements AttachRelay {
  readonly #o: ReplicaRelayOptions;
  readonly #now: () => number;
  /** Nonces of tokens accepted and not yet expired: a token is good once. */
  readonly #used = new Map<string, number>();

  constructor(options: ReplicaRelayOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  sign(who: RelayedAttach, to: string): string {
    const payload = Buffer.from(
      JSON.stringify({ ...who, to, exp: this.#now() + TOKEN_TTL_MS, nonce: randomBytes(16).toString('base64url') }),
    ).toString('base64url');
    return `${payload}.${this.#mac(payload)}`;
  }

  accept(req: IncomingMessage, agentId: string): RelayedAttach | undefined {
    const header = req.headers[RELAY_HEADER];
    if (header === undefined) return undefined;
    const bad = () => new ApiError(401, 'INVALID_RELAY', 'The relayed attach is not signed by a replica, or expired');
    const [payload, mac] = String(header).split('.');
    if (!payload || !mac) throw bad();
    const want = Buffer.from(this.#mac(payload));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw bad();
    let claims: RelayedAttach & { to?: unknown; exp?: unknown; nonce?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw bad();
    }
    const now = this.#now();
    this.#sweep(now);
    const { to, exp, nonce, ...who } = claims;
    if (to !== this.#o.instanceId || typeof exp !== 'number' || exp <= now || typeof nonce !== 'string') throw bad();
    if (who.agentId !== agentId || typeof who.userId !== 'string' || typeof who.session !== 'string') throw bad();
    if (this.#used.has(nonce)) throw bad();
    this.#used.set(nonce, exp);
    return who;
  }

  async elsewhere(agent: AgentRecord): Promise<string | undefined> {
    const remoteId = this.#o.remote()?.agentIdOf(agent.provider);
    if (!remoteId) return undefined;
    const holder = await this.#o.addresses.holderOf(remoteId);
    return holder && `${holder.url}#${holder.instanceId}`;
  }

  forward(req: IncomingMessage, socket: Duplex, head: Buffer, target: string, who: RelayedAttach): Promise<void> {
    const hash = target.indexOf('#');
    const base = hash < 0 ? target : target.slice(0, hash);
    const instance = hash < 0 ? '' : target.slice(hash + 1);
    const url = new URL(req.url ?? '/', base);
    // What authenticated the client was checked here; the holder trusts the signed header instead.
    url.searchParams.delete('ticket');
    url.searchParams.delete('session');
    const headers: Record<string, string> = {
      connection: 'Upgrade',
      upgrade: 'websocket',
      [RELAY_HEADER]: this.sign(who, instance),
    };
    for (const name of ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'user-agent']) {
      const value = req.headers[name];
      if (value !== undefined) headers[name] = String(value);
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<void>((resolve, reject) => {
      const upstreamReq = send(url, { method: 'GET', headers, timeout: 10_000 });
      upstreamReq.on('upgrade', (res, upstream: Socket, upHead) => {
        // The 10 s bound was for the handshake: an idle terminal must not time out.
        upstream.setTimeout(0);
        if (socket.destroyed) {
          // The client left while the holder was answering: the holder sees its end and runs out the grace.
          upstream.destroy();
          resolve();
          return;
        }
        // The holder's handshake (its Sec-WebSocket-Accept answers the client's own key) goes back as it came.
        let text = 'HTTP/1.1 101 Switching Protocols\r\n';
        for (let i = 0; i < res.rawHeaders.length; i += 2) text += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
        socket.write(`${text}\r\n`);
        if (upHead.length) socket.write(upHead);
        if (head.length) upstream.write(head);
        // Keystrokes go out as they come: no coalescing on either leg.
        upstream.setNoDelay(true);
        (socket as Partial<Socket>).setNoDelay?.(true);
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
        upstream.on('close', () => socket.destroy());
        socket.on('close', () => upstream.destroy());
        socket.pipe(upstream);
        upstream.pipe(socket);
        resolve();
      });
      upstreamReq.on('response', (res) => {
        // The holder refused (404, 409, 421…): its answer is the client's.
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(refusalOf(res, Buffer.concat(chunks).toString('utf8'))));
        res.on('error', reject);
      });
      upstreamReq.on('timeout', () => upstreamReq.destroy(new Error('no answer within 10 s')));
      upstreamReq.on('error', (error) =>
        reject(
          new ApiError(
            502,
            'REPLICA_UNREACHABLE',
            `The platform instance holding this agent's link could not be reached: ${error.message}`,
          ),
        ),
      );
      upstreamReq.end();
    });
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#o.key).update(payload).digest('base64url');
  }

  #sweep(now: number): void {
    for (const [nonce, exp] of this.#used) if (exp <= now) this.#used.delete(nonce);
  }
}

function refusalOf(res: IncomingMessage, body: string): ApiError {
  const status = res.statusCode ?? 502;
  const retryAfter = res.headers['retry-after'];
  const headers: Record<string, string> = typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : {};
  try {
    const { error } = JSON.parse(body) as {
      error: { code: string; message: string; details?: Record<string, unknown> };
    };
    if (typeof error?.code !== 'string') throw new Error('not an API error');
    return new ApiError(status, error.code, error.message, headers, error.details);
  } catch {
    return new ApiError(502, 'REPLICA_UNREACHABLE', `The instance holding this agent's link answered ${status}`);
  }
}
