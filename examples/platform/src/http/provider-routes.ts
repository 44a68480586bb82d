import type { ProviderCatalog } from '../providers/provider-catalog.js';
import { type ApiContext, reply } from './context.js';
import type { Router } from './router.js';

/** `GET /api/v1/providers`: what agents can be created with, and what each can do. */
export function providerRoutes(
  router: Router<ApiContext>,
  options: { catalog: ProviderCatalog | undefined; defaultProvider: string },
): void {
  router.on('GET', '/api/v1/providers', async (ctx) => {
    const providers = options.catalog ? await options.catalog.list() : [];
    reply(ctx, 200, { default_provider: options.defaultProvider, providers });
  });
}
