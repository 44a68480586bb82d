import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
}

type Handler<C> = (ctx: C) => Promise<void> | void;

interface Route<C> {
  method: string;
  path: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler<C>;
}

/** `/api/v1/agents/:id` style paths; a path that matches with another method is a 405, not a 404. */
export class Router<C extends RouteContext> {
  readonly #routes: Route<C>[] = [];

  on(method: string, path: string, handler: Handler<C>): this {
    const keys: string[] = [];
    const source = path.replace(/:([a-z_]+)/g, (_, key: string) => {
      keys.push(key);
      return '([^/]+)';
    });
    this.#routes.push({ method, path, pattern: new RegExp(`^${source}/?$`), keys, handler });
    return this;
  }

  /** Every route as registered (`GET /api/v1/agents/:id`): what the OpenAPI test checks the document covers. */
  routes(): Array<{ method: string; path: string }> {
    return this.#routes.map(({ method, path }) => ({ method, path }));
  }

  match(
    method: string,
    pathname: string,
  ): { handler: Handler<C>; params: Record<string, string> } | { allowed: string[] } | undefined {
    const allowed: string[] = [];
    for (const route of this.#routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1]!);
      });
      return { handler: route.handler, params };
    }
    // HEAD is served wherever GET is, so it is allowed there too.
    if (allowed.includes('GET')) allowed.push('HEAD');
    return allowed.length ? { allowed: [...new Set(allowed)] } : undefined;
  }
}
