import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { RELAY_HEADER, ReplicaRelay, replicaRelayKey } from './replica-relay.js';

const key = replicaRelayKey(undefined, 'a-hub-secret-of-at-least-32-bytes-long!!')!;
let clock = 1_000_000;
const relayOn = (instanceId: string, k = key) =>
  new ReplicaRelay({
    key: k,
    instanceId,
    addresses: { holderOf: async () => undefined },
    remote: () => undefined,
    now: () => clock,
  });
const req = (token: string) => ({ headers: { [RELAY_HEADER]: token } }) as unknown as IncomingMessage;
const who = { userId: 'alice', agentId: 'agt_1', session: 's1', remote: '10.0.0.9' };

describe('ReplicaRelay: the signed header a relayed attach carries', () => {
  it('is accepted once, by the instance it names, for the agent it names', () => {
    const from = relayOn('b');
    const at = relayOn('a');
    const token = from.sign(who, 'a');
    expect(at.accept(req(token), 'agt_1')).toEqual(who);
    // Replayed: refused, as is the same header at another instance or for another agent.
    expect(() => at.accept(req(token), 'agt_1')).toThrow(
      expect.objectContaining({ status: 401, code: 'INVALID_RELAY' }),
    );
    expect(() => relayOn('c').accept(req(from.sign(who, 'a')), 'agt_1')).toThrow(
      expect.objectContaining({ status: 401 }),
    );
    expect(() => at.accept(req(from.sign(who, 'a')), 'agt_2')).toThrow(expect.objectContaining({ status: 401 }));
  });

  it('refuses one expired, one signed with another key, and one whose claims were changed', () => {
    const at = relayOn('a');
    const old = relayOn('b').sign(who, 'a');
    clock += 11_000;
    expect(() => at.accept(req(old), 'agt_1')).toThrow(expect.objectContaining({ status: 401 }));
    const stranger = relayOn('b', replicaRelayKey('another-secret-of-at-least-32-bytes!!', undefined)).sign(who, 'a');
    expect(() => at.accept(req(stranger), 'agt_1')).toThrow(expect.objectContaining({ status: 401 }));
    const [payload, mac] = relayOn('b').sign(who, 'a').split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const changed = Buffer.from(JSON.stringify({ ...claims, userId: 'bob' })).toString('base64url');
    expect(() => at.accept(req(`${changed}.${mac}`), 'agt_1')).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => at.accept(req('garbage'), 'agt_1')).toThrow(expect.objectContaining({ status: 401 }));
  });

  it('a request without the header is not relayed', () => {
    expect(relayOn('a').accept({ headers: {} } as IncomingMessage, 'agt_1')).toBeUndefined();
  });
});
