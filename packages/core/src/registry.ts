import type { CodeAgent } from './agent.js';
import { CoreErrorCode } from './error-codes.js';
import { DuplicateProviderError, ForgeError, ProviderNotFoundError, ValidationError, isForgeError } from './errors.js';

import type { SessionStore } from './session-store.js';

/** What the registry hands every factory it builds: pass it on to the adapter (`claudeCode({ ...context })`). */
export interface AgentFactoryContext {
  /** The registry's session store, so every provider it builds keeps its sessions in one place. */
  sessionStore?: SessionStore;
}

export type AgentFactory = (context: AgentFactoryContext) => CodeAgent | Promise<CodeAgent>;

export interface ProviderRegistryOptions {
  /** Handed to every factory (`AgentFactoryContext.sessionStore`). */
  sessionStore?: SessionStore;
}

export interface ProviderRegistry {
  /** Registers an agent, or a factory that is built lazily, once, on first `get`. */
  register(name: string, agentOrFactory: CodeAgent | AgentFactory): void;
  /** The named provider, or the default one when no name is given. */
  get(name?: string): Promise<CodeAgent>;
  has(name: string): boolean;
  list(): string[];
  /**
   * Removes a provider. With `only`, removes it only while the name still holds that agent or
   * factory (what was registered), so a component cannot remove a name the host has since reused.
   */
  unregister(name: string, only?: CodeAgent | AgentFactory): boolean;
  setDefault(name: string): void;
  readonly defaultName: string | undefined;
  /** Closes every agent that was built. */
  close(): Promise<void>;
}

interface Entry {
  source: CodeAgent | AgentFactory;
  built?: Promise<CodeAgent>;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

function isAgent(value: CodeAgent | AgentFactory): value is CodeAgent {
  return typeof value === 'object' && value !== null && typeof (value as CodeAgent).execute === 'function';
}

/** Runs a factory; whatever it throws reaches `get` as a ForgeError naming the provider, the original as cause. */
async function build(name: string, factory: AgentFactory, context: AgentFactoryContext): Promise<CodeAgent> {
  let agent: CodeAgent;
  try {
    agent = await factory(context);
  } catch (error) {
    if (isForgeError(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ForgeError(
      CoreErrorCode.PROVIDER_FACTORY_FAILED,
      `Provider "${name}" could not be built: ${message}`,
      'provider',
      {
        cause: error,
        details: { name },
      },
    );
  }
  if (!isAgent(agent)) {
    throw new ValidationError(
      CoreErrorCode.INVALID_PROVIDER,
      `The factory of provider "${name}" did not return a CodeAgent`,
      [],
      {
        details: { name },
      },
    );
  }
  return agent;
}

/** A registry of providers by name. Make one per host; Forge keeps no global registry. */
export function createProviderRegistry(options: ProviderRegistryOptions = {}): ProviderRegistry {
  const context: AgentFactoryContext = options.sessionStore ? { sessionStore: options.sessionStore } : {};
  const entries = new Map<string, Entry>();
  let explicitDefault: string | undefined;

  const defaultName = () => explicitDefault ?? entries.keys().next().value;

  return {
    register(name, agentOrFactory) {
      if (!NAME.test(name)) {
        throw new ValidationError('INVALID_PROVIDER_NAME', `"${name}" is not a valid provider name`, [
          { path: 'name', code: 'INVALID_PROVIDER_NAME', message: 'letters, digits, ".", "_" and "-", at most 63' },
        ]);
      }
      if (entries.has(name)) throw new DuplicateProviderError(name);
      if (!isAgent(agentOrFactory) && typeof agentOrFactory !== 'function') {
        throw new ValidationError('INVALID_PROVIDER', `Provider "${name}" must be a CodeAgent or a factory`, []);
      }
      entries.set(name, { source: agentOrFactory });
    },
    get(name) {
      const key = name ?? defaultName();
      const entry = key === undefined ? undefined : entries.get(key);
      if (!entry) return Promise.reject(new ProviderNotFoundError(key ?? '(default)', [...entries.keys()]));
      if (!entry.built) {
        const source = entry.source;
        // One promise per entry, so two callers racing on a factory share a single build.
        entry.built = isAgent(source) ? Promise.resolve(source) : build(key!, source, context);
        entry.built.catch(() => {
          // A failed build is not cached: the next `get` tries again.
          if (entries.get(key!) === entry) entry.built = undefined;
        });
      }
      return entry.built;
    },
    has: (name) => entries.has(name),
    list: () => [...entries.keys()],
    unregister(name, only) {
      if (only !== undefined && entries.get(name)?.source !== only) return false;
      if (explicitDefault === name) explicitDefault = undefined;
      return entries.delete(name);
    },
    setDefault(name) {
      if (!entries.has(name)) throw new ProviderNotFoundError(name, [...entries.keys()]);
      explicitDefault = name;
    },
    get defaultName() {
      return defaultName();
    },
    async close() {
      const built = [...entries.values()].map((e) => e.built).filter((b): b is Promise<CodeAgent> => b !== undefined);
      const errors: unknown[] = [];
      for (const b of built) {
        try {
          await (await b).close?.();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length)
        throw new ForgeError('REGISTRY_CLOSE_FAILED', `${errors.length} provider(s) failed to close`, 'internal', {
          cause: errors[0],
        });
    },
  };
}
