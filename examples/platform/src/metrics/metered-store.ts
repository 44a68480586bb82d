import type { ForgeStore } from '@forge/store';
import type { PlatformMetrics } from './platform-metrics.js';

/** The store's parts whose operations are timed (forge_store_query_seconds{op="<part>.<method>"}). */
const METERED = ['runs', 'keySpend', 'agentSettings', 'usage'] as const;

/**
 * Times an object's async methods as `<part>.<method>`: the label is a method name of a store class, a fixed set,
 * never anything a request carries. Calls reach the object itself (not the proxy), so its private fields work.
 */
function metered<T extends object>(target: T, part: string, metrics: PlatformMetrics): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const op = `${part}.${prop}`;
        fn = (...args: unknown[]) => {
          const out = (value as (...a: unknown[]) => unknown).apply(obj, args);
          return out instanceof Promise ? metrics.timeQuery(op, () => out) : out;
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}

/** The same store, its runs, spend, settings and usage operations timed into `metrics`. */
export function meteredStore(store: ForgeStore, metrics: PlatformMetrics): ForgeStore {
  const parts = Object.fromEntries(METERED.map((part) => [part, metered(store[part], part, metrics)]));
  return Object.assign(Object.create(store) as ForgeStore, parts);
}
