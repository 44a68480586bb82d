import { describe, expect, it, vi } from 'vitest';
import { DuplicateProviderError, ProviderNotFoundError, ValidationError, isForgeError } from './errors.js';
import { memorySessionStore } from './memory-session-store.js';
import { createProviderRegistry, type AgentFactoryContext } from './registry.js';
import { sampleScript, scriptedAgent } from './testing/scripted-agent.js';

const agent = (provider: string) => scriptedAgent({ provider, steps: sampleScript() });

describe('createProviderRegistry', () => {
  it('returns registered agents by name, and the first as default', async () => {
    const reg = createProviderRegistry();
    const a = agent('a');
    reg.register('a', a);
    reg.register('b', agent('b'));
    expect(await reg.get('a')).toBe(a);
    expect(await reg.get()).toBe(a);
    expect(reg.list()).toEqual(['a', 'b']);
    reg.setDefault('b');
    expect((await reg.get()).provider).toBe('b');
  });

  it('builds a factory lazily and once, even for racing callers', async () => {
    const reg = createProviderRegistry();
    const factory = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 10));
      return agent('lazy');
    });
    reg.register('lazy', factory);
    expect(factory).not.toHaveBeenCalled();
    const [x, y] = await Promise.all([reg.get('lazy'), reg.get('lazy')]);
    expect(x).toBe(y);
    expect(factory).toHaveBeenCalledTimes(1);
  });

  it('retries a factory that failed', async () => {
    const reg = createProviderRegistry();
    let calls = 0;
    reg.register('flaky', () => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return agent('flaky');
    });
    await expect(reg.get('flaky')).rejects.toThrow('boom');
    expect((await reg.get('flaky')).provider).toBe('flaky');
  });

  it('wraps a factory that throws in a ForgeError naming the provider, keeping the cause', async () => {
    const reg = createProviderRegistry();
    const boom = new TypeError('cannot read properties of undefined');
    reg.register('broken', () => {
      throw boom;
    });
    const error = await reg.get('broken').catch((e: unknown) => e);
    expect(isForgeError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'PROVIDER_FACTORY_FAILED', details: { name: 'broken' } });
    expect((error as Error).message).toContain('broken');
    expect((error as Error).message).toContain('cannot read properties of undefined');
    expect((error as Error).cause).toBe(boom);
  });

  it('passes a ForgeError from a factory through as it is', async () => {
    const reg = createProviderRegistry();
    const typed = new ValidationError('INVALID_OPTIONS', 'needs a baseUrl');
    reg.register('typed', async () => {
      throw typed;
    });
    await expect(reg.get('typed')).rejects.toBe(typed);
  });

  it('refuses a factory that returns something that is not an agent', async () => {
    const reg = createProviderRegistry();
    reg.register('odd', () => ({}) as never);
    await expect(reg.get('odd')).rejects.toMatchObject({ code: 'INVALID_PROVIDER' });
  });

  it('refuses duplicates and bad names; lists known names for unknown ones', async () => {
    const reg = createProviderRegistry();
    reg.register('a', agent('a'));
    expect(() => reg.register('a', agent('a'))).toThrow(DuplicateProviderError);
    expect(() => reg.register('bad name!', agent('x'))).toThrow(ValidationError);
    const err = await reg.get('nope').catch((e) => e);
    expect(err).toBeInstanceOf(ProviderNotFoundError);
    expect(err.known).toEqual(['a']);
    expect(err.message).toContain('known: a');
    await expect(createProviderRegistry().get()).rejects.toBeInstanceOf(ProviderNotFoundError);
  });

  it('unregisters a name only while it holds the given agent, when asked', async () => {
    const reg = createProviderRegistry();
    const first = scriptedAgent({ steps: sampleScript() });
    const second = scriptedAgent({ steps: sampleScript() });
    reg.register('a', first);
    reg.unregister('a');
    reg.register('a', second);
    expect(reg.unregister('a', first)).toBe(false);
    expect(await reg.get('a')).toBe(second);
    expect(reg.unregister('a', second)).toBe(true);
    expect(reg.has('a')).toBe(false);
  });

  it('unregisters, and moves the default along', async () => {
    const reg = createProviderRegistry();
    reg.register('a', agent('a'));
    reg.register('b', agent('b'));
    reg.setDefault('a');
    expect(reg.unregister('a')).toBe(true);
    expect(reg.unregister('a')).toBe(false);
    expect(reg.defaultName).toBe('b');
  });

  it('keeps registries apart (no global state)', () => {
    const one = createProviderRegistry();
    one.register('a', agent('a'));
    expect(createProviderRegistry().list()).toEqual([]);
  });
});

describe('the registry hands its session store to every factory', () => {
  it('passes sessionStore in the factory context', async () => {
    const store = memorySessionStore();
    const registry = createProviderRegistry({ sessionStore: store });
    let seen: AgentFactoryContext | undefined;
    registry.register('scripted', (context) => {
      seen = context;
      return scriptedAgent({ steps: [] });
    });
    await registry.get('scripted');
    expect(seen?.sessionStore).toBe(store);
  });
});
