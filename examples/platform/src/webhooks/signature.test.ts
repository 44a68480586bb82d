import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createReplayCache } from './replay-cache.js';
import { generateWebhookSecret, webhookSecretKey } from './secret.js';
import { createWebhookVerifier, signWebhook, verifyWebhook } from './signature.js';
import { WebhookSecretError, WebhookVerificationError } from './errors.js';

// The reference vector of the Standard Webhooks test suite (libraries/javascript/src/webhook.test.ts, "sign function works").
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const atVector = () => VECTOR.timestamp * 1000;
const vectorHeaders = (signature = VECTOR.signature) => ({
  'webhook-id': VECTOR.id,
  'webhook-timestamp': String(VECTOR.timestamp),
  'webhook-signature': signature,
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).code;
  }
  return undefined;
}

describe('signWebhook', () => {
  it('matches the Standard Webhooks reference vector', () => {
    expect(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('signs bytes and strings alike', () => {
    expect(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body))).toBe(VECTOR.signature);
  });

  it('refuses what a Standard Webhooks verifier cannot read: empty, short, spaced, non-ASCII, not base64 — without echoing it', () => {
    for (const bad of [
      '',
      'whsec_',
      'whsec_c2hvcnQ=',
      'short-secret',
      'a plain secret with spaces',
      'geheimnis-über-16-zeichen',
      'x'.repeat(1025),
    ]) {
      expect(() => webhookSecretKey(bad), bad).toThrow(WebhookSecretError);
    }
    expect(() => webhookSecretKey('short-secret')).toThrow(/must be 16 to 1024 characters, not 12/);
    expect(() => webhookSecretKey('geheimnis-über-16-zeichen')).toThrow(/printable ASCII/);
    expect(() => webhookSecretKey('whsec_not base64!')).toThrow(/must continue with base64/);
    try {
      webhookSecretKey('whsec_not base64!');
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('not base64!');
    }
  });

  it('generates secrets that the standardwebhooks reference library verifies our signatures with', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(generateWebhookSecret()).not.toBe(secret);
    const id = 'msg_generated';
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ hello: 'world' });
    const verified = new Webhook(secret).verify(body, {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secret, id, timestamp, body),
    });
    expect(verified).toEqual({ hello: 'world' });
  });
});

describe('plain secrets (raw HMAC keys)', () => {
  // The design's own example (the issue's `"webhook_secret": "optional-hmac-secret"`).
  const PLAIN = 'optional-hmac-secret';

  it('signs with the secret’s bytes as the key: the standardwebhooks library verifies in its raw-key mode', () => {
    const id = 'msg_plain';
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ event_type: 'agent.event', seq: 1 });
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(PLAIN, id, timestamp, body),
    };
    expect(new Webhook(PLAIN, { format: 'raw' }).verify(body, headers)).toEqual({ event_type: 'agent.event', seq: 1 });
    // The same secret as a Uint8Array key, the library's other raw form.
    expect(new Webhook(new TextEncoder().encode(PLAIN), { format: 'raw' }).verify(body, headers)).toBeTruthy();
    expect(verifyWebhook(PLAIN, headers, body).id).toBe(id);
    // Not the base64 reading: a receiver in the default mode must be told to use raw mode.
    expect(() => new Webhook(`whsec_${Buffer.from(PLAIN).toString('base64')}`).verify(body, headers)).not.toThrow();
    expect(createWebhookVerifier(PLAIN).verify(headers, body).payload).toMatchObject({ seq: 1 });
  });

  it('accepts 16 characters, not 15', () => {
    expect(() => webhookSecretKey('a'.repeat(16))).not.toThrow();
    expect(() => webhookSecretKey('a'.repeat(15))).toThrow(WebhookSecretError);
  });
});

describe('verifyWebhook', () => {
  it('accepts the reference vector and returns the parsed payload', () => {
    const verified = verifyWebhook(VECTOR.secret, vectorHeaders(), VECTOR.body, { now: atVector });
    expect(verified).toEqual({ id: VECTOR.id, timestamp: VECTOR.timestamp, payload: { test: 2432232314 } });
  });

  it('round-trips what signWebhook produced, with Headers or a node-style record', () => {
    const secret = 'whsec_YSBzaGFyZWQgc2VjcmV0IGZvciB0aGUgdGVzdA==';
    const body = JSON.stringify({ event_type: 'agent.event', seq: 1 });
    const ts = 1_700_000_000;
    const sig = signWebhook(secret, 'msg_1', ts, body);
    const now = () => ts * 1000;
    const fromHeaders = new Headers({
      'Webhook-Id': 'msg_1',
      'Webhook-Timestamp': String(ts),
      'Webhook-Signature': sig,
    });
    expect(verifyWebhook(secret, fromHeaders, body, { now }).id).toBe('msg_1');
    const fromNode = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': [sig], host: 'x' };
    expect(verifyWebhook(secret, fromNode, Buffer.from(body), { now }).payload).toEqual({
      event_type: 'agent.event',
      seq: 1,
    });
    const mixedCase = { 'Webhook-Id': 'msg_1', 'WEBHOOK-TIMESTAMP': String(ts), 'webhook-signature': sig };
    expect(verifyWebhook(secret, mixedCase, body, { now }).timestamp).toBe(ts);
  });

  it('accepts any one of several space-separated signatures, ignoring other versions', () => {
    const header = ['v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=', 'v2,whatever', VECTOR.signature, 'garbage'].join(
      ' ',
    );
    expect(verifyWebhook(VECTOR.secret, vectorHeaders(header), VECTOR.body, { now: atVector }).id).toBe(VECTOR.id);
  });

  it('rejects a bad, truncated, re-versioned or missing signature, another secret and a changed body', () => {
    const verify =
      (headers: Record<string, string>, body = VECTOR.body, secret = VECTOR.secret) =>
      () =>
        verifyWebhook(secret, headers, body, { now: atVector });
    expect(codeOf(verify(vectorHeaders('v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=')))).toBe(
      'WEBHOOK_SIGNATURE_INVALID',
    );
    expect(codeOf(verify(vectorHeaders(VECTOR.signature.slice(0, 20))))).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(codeOf(verify(vectorHeaders('v1,')))).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(codeOf(verify(vectorHeaders(VECTOR.signature.replace('v1,', 'v2,'))))).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(codeOf(verify(vectorHeaders(), '{"test": 2432232315}'))).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(
      codeOf(
        verify(
          vectorHeaders(),
          VECTOR.body,
          `whsec_${Buffer.from('another key, 16 bytes or more').toString('base64')}`,
        ),
      ),
    ).toBe('WEBHOOK_SIGNATURE_INVALID');
    const { 'webhook-signature': _s, ...noSignature } = vectorHeaders();
    expect(codeOf(verify(noSignature))).toBe('WEBHOOK_HEADERS_MISSING');
    const { 'webhook-id': _i, ...noId } = vectorHeaders();
    expect(codeOf(verify(noId))).toBe('WEBHOOK_HEADERS_MISSING');
  });

  it('rejects a timestamp outside the tolerance either way, and accepts one at its edge', () => {
    const verify = (offsetSeconds: number, toleranceSeconds?: number) => () =>
      verifyWebhook(VECTOR.secret, vectorHeaders(), VECTOR.body, {
        now: () => (VECTOR.timestamp + offsetSeconds) * 1000,
        toleranceSeconds,
      });
    expect(codeOf(verify(300))).toBeUndefined();
    expect(codeOf(verify(-300))).toBeUndefined();
    expect(codeOf(verify(301))).toBe('WEBHOOK_TIMESTAMP_TOO_OLD');
    expect(codeOf(verify(-301))).toBe('WEBHOOK_TIMESTAMP_TOO_NEW');
    expect(codeOf(verify(30, 10))).toBe('WEBHOOK_TIMESTAMP_TOO_OLD');
    const bad = { ...vectorHeaders(), 'webhook-timestamp': 'hello' };
    expect(codeOf(() => verifyWebhook(VECTOR.secret, bad, VECTOR.body, { now: atVector }))).toBe(
      'WEBHOOK_TIMESTAMP_INVALID',
    );
  });

  it('rejects a replayed webhook-id, but a forged request does not burn the id', () => {
    const seen = createReplayCache();
    const forged = vectorHeaders('v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=');
    expect(codeOf(() => verifyWebhook(VECTOR.secret, forged, VECTOR.body, { now: atVector, seen }))).toBe(
      'WEBHOOK_SIGNATURE_INVALID',
    );
    expect(
      codeOf(() => verifyWebhook(VECTOR.secret, vectorHeaders(), VECTOR.body, { now: atVector, seen })),
    ).toBeUndefined();
    expect(codeOf(() => verifyWebhook(VECTOR.secret, vectorHeaders(), VECTOR.body, { now: atVector, seen }))).toBe(
      'WEBHOOK_REPLAYED',
    );
  });

  it('createWebhookVerifier keeps its own replay cache', () => {
    const verifier = createWebhookVerifier(VECTOR.secret, { now: atVector });
    expect(verifier.verify(vectorHeaders(), VECTOR.body).id).toBe(VECTOR.id);
    expect(codeOf(() => verifier.verify(vectorHeaders(), VECTOR.body))).toBe('WEBHOOK_REPLAYED');
    verifier.forget(VECTOR.id); // the handler failed: the retry must get through
    expect(verifier.verify(vectorHeaders(), VECTOR.body).id).toBe(VECTOR.id);
  });

  it('reports a signed body that is not JSON', () => {
    const ts = 1_700_000_000;
    const headers = {
      'webhook-id': 'msg_x',
      'webhook-timestamp': String(ts),
      'webhook-signature': signWebhook(VECTOR.secret, 'msg_x', ts, 'not json'),
    };
    expect(codeOf(() => verifyWebhook(VECTOR.secret, headers, 'not json', { now: () => ts * 1000 }))).toBe(
      'WEBHOOK_PAYLOAD_INVALID',
    );
  });
});
