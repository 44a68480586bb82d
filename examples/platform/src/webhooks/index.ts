export {
  createWebhookDispatcher,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookDispatcherStats,
  type WebhookTarget,
} from './dispatcher.js';
export type {
  WebhookChannel,
  WebhookDeliveryReport,
  WebhookGiveUpReason,
  WebhookSendOptions,
} from './channel.js';
export {
  webhookPayload,
  webhookEventType,
  type WebhookPayload,
  type WebhookEventType,
  type WebhookPayloadOptions,
} from './payload.js';
export {
  signWebhook,
  verifyWebhook,
  createWebhookVerifier,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  type WebhookHeaders,
  type WebhookVerifier,
} from './signature.js';
export { createReplayCache, type ReplayCache, type ReplayCacheOptions } from './replay-cache.js';
export { generateWebhookSecret, webhookSecretKey } from './secret.js';
export {
  WebhookUrlError,
  WebhookSecretError,
  WebhookVerificationError,
  type WebhookUrlErrorCode,
  type WebhookVerificationErrorCode,
} from './errors.js';
export { createUrlGuard, type UrlGuard, type UrlGuardOptions, type Resolver } from './url-guard.js';
