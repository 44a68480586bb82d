import { ValidationError, type ForgeErrorOptions } from '@forge/core';

export type WebhookUrlErrorCode = 'WEBHOOK_URL_INVALID' | 'WEBHOOK_URL_REFUSED';

/**
 * A webhook URL that cannot be used: malformed, not http(s), unresolvable (`WEBHOOK_URL_INVALID`), or pointing at
 * an address the SSRF guard refuses — loopback, private, link-local… (`WEBHOOK_URL_REFUSED`).
 * A ValidationError, so a host maps it to 400 by `category`.
 */
export class WebhookUrlError extends ValidationError {
  declare readonly code: WebhookUrlErrorCode;
  constructor(code: WebhookUrlErrorCode, message: string, options: ForgeErrorOptions = {}) {
    super(code, message, [{ path: 'webhook_url', code, message }], options);
  }
}

/** A webhook secret that cannot be used (empty, or `whsec_` followed by something that is not base64). */
export class WebhookSecretError extends ValidationError {
  constructor(message: string) {
    super('WEBHOOK_SECRET_INVALID', message, [{ path: 'webhook_secret', code: 'WEBHOOK_SECRET_INVALID', message }]);
  }
}

export type WebhookVerificationErrorCode =
  | 'WEBHOOK_HEADERS_MISSING'
  | 'WEBHOOK_TIMESTAMP_INVALID'
  | 'WEBHOOK_TIMESTAMP_TOO_OLD'
  | 'WEBHOOK_TIMESTAMP_TOO_NEW'
  | 'WEBHOOK_SIGNATURE_INVALID'
  | 'WEBHOOK_REPLAYED'
  | 'WEBHOOK_PAYLOAD_INVALID';

/** Thrown by `verifyWebhook`: the request must be answered 4xx and not acted on. Never carries the secret. */
export class WebhookVerificationError extends ValidationError {
  declare readonly code: WebhookVerificationErrorCode;
  constructor(code: WebhookVerificationErrorCode, message: string) {
    super(code, message);
  }
}
