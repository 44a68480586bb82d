import type { WebhookChannel, WebhookDispatcherPort } from '../webhook-port.js';
import type { PlatformMetrics } from './platform-metrics.js';

/**
 * The dispatcher with its deliveries counted: each event settled `delivered` or `rejected` as its receiver
 * answered, and those a channel gave up on (not merely stopped for shutdown: the next replica delivers them)
 * as `failed`; the time from hand-over to settling, retries included.
 */
export function meteredWebhooks(port: WebhookDispatcherPort, metrics: PlatformMetrics): WebhookDispatcherPort {
  return {
    async open(options) {
      const channel = await port.open(options);
      let unsettled = 0;
      const metered: WebhookChannel = {
        done: channel.done.then((report) => {
          const gaveUp = (report as { gaveUp?: { reason?: string } } | undefined)?.gaveUp;
          if (gaveUp && gaveUp.reason !== 'closed' && unsettled > 0)
            metrics.webhookDeliveries.inc({ outcome: 'failed' }, unsettled);
          return report;
        }),
        send(event, sendOptions = {}) {
          const end = metrics.webhookDelivery.startTimer();
          unsettled++;
          channel.send(event, {
            ...sendOptions,
            onSettled: (outcome) => {
              unsettled--;
              end();
              metrics.webhookDeliveries.inc({ outcome });
              sendOptions.onSettled?.(outcome);
            },
          });
        },
        ...(channel.stop ? { stop: () => channel.stop?.() } : {}),
      };
      return metered;
    },
    close: () => port.close(),
  };
}
