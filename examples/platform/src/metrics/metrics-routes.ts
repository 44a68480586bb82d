import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../http/context.js';
import { sendJson } from '../http/io.js';
import { listen, type HttpServer } from '../http/listen.js';
import type { Router } from '../http/router.js';
import type { PlatformMetrics } from './platform-metrics.js';

async function sendMetrics(res: ServerResponse, metrics: PlatformMetrics, headers: Record<string, string> = {}) {
  const text = await metrics.text();
  res.writeHead(200, { ...headers, 'content-type': metrics.contentType, 'cache-control': 'no-store' });
  res.end(text);
}

/** `GET /metrics` on the main port: an admin key's (the exposition says how busy every user is). */
export function metricsRoutes(router: Router<ApiContext>, options: { metrics: PlatformMetrics }): void {
  router.on('GET', '/metrics', async (ctx) => {
    if (!ctx.principal.admin)
      throw new ApiError(403, 'ADMIN_REQUIRED', 'Metrics take an admin key (FORGE_ADMIN_USERS)');
    await sendMetrics(ctx.res, options.metrics, ctx.limits);
  });
}

/**
 * `GET /metrics` alone on a port of its own (FORGE_METRICS_PORT), without a key: for a scraper inside the cluster,
 * the port kept off the public Service.
 */
export function listenMetrics(metrics: PlatformMetrics, options: { port: number; host: string }): Promise<HttpServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `Nothing at ${path}` } });
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(
        res,
        405,
        { error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed here` } },
        { allow: 'GET, HEAD' },
      );
    sendMetrics(res, metrics).catch((error: unknown) =>
      sendJson(res, 500, { error: { code: 'INTERNAL_ERROR', message: String((error as Error)?.message ?? error) } }),
    );
  };
  return listen(handler, options);
}
