import { geminiCli } from '@forge/acp';
import { claudeCode } from '@forge/claude-code';
import { codex } from '@forge/codex';
import { codexBinPath } from '@forge/codex/testing';
import { createCodeAgent, createProviderRegistry, defaultCapabilities, type ProviderRegistry } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, parseApiKeyList } from '../api-keys.js';
import { localBackend } from '../backends/local-backend.js';
import { memoryLogger } from '../logger.js';
import { providerCatalog } from '../providers/provider-catalog.js';
import { RunManager } from '../run-manager.js';
import { ALICE_KEY, apiClient, testStore } from '../test-support/api-harness.js';
import { createApiHandler } from './api.js';
import { listen } from './listen.js';

describe('GET /api/v1/providers', () => {
  let registry: ProviderRegistry;
  let server: Awaited<ReturnType<typeof listen>>;
  let call: ReturnType<typeof apiClient>;
  let runs: RunManager;
  let probes = 0;
  let now = 0;

  beforeAll(async () => {
    registry = createProviderRegistry();
    registry.register('scripted', () => {
      probes++;
      return scriptedAgent({ steps: [] });
    });
    registry.register('codex', () =>
      codex({ bin: codexBinPath(), provider: { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-never-listed-0123' } }),
    );
    registry.register('codex-missing', () => codex({ bin: '/nonexistent/forge-test/codex' }));
    registry.register('claude-code-missing', () => claudeCode({ bin: '/nonexistent/forge-test/claude' }));
    registry.register('gemini-missing', () => geminiCli({ bin: '/nonexistent/forge-test/gemini' }));
    registry.register('broken', () => {
      throw new Error('cannot build this one');
    });
    registry.register('silent', () =>
      createCodeAgent({
        provider: 'silent',
        declared: defaultCapabilities(),
        capabilities: () => new Promise(() => {}),
        run: async () => ({}),
      }),
    );
    registry.register('no-start', () =>
      createCodeAgent({
        provider: 'no-start',
        declared: defaultCapabilities(),
        capabilities: () => defaultCapabilities({ extra: { error: 'spawn gemini ENOENT' } }),
        run: async () => ({}),
      }),
    );
    registry.register('says-no', () =>
      createCodeAgent({
        provider: 'says-no',
        declared: defaultCapabilities(),
        capabilities: () => defaultCapabilities({ available: false, unavailableReason: 'no GPU here' }),
        run: async () => ({}),
      }),
    );
    registry.register('deltas', () =>
      createCodeAgent({
        provider: 'deltas',
        declared: defaultCapabilities({ textDeltas: true }),
        capabilities: () => defaultCapabilities({ textDeltas: true, version: '1.2.3' }),
        run: async () => ({}),
      }),
    );
    runs = await RunManager.create({ store: await testStore(), agents: async () => undefined, logger: memoryLogger() });
    const handler = createApiHandler({
      keys: new ApiKeyStore(parseApiKeyList(`alice:${ALICE_KEY}`)),
      backend: localBackend({ dataDir: '/nonexistent/forge-test-data', registry }),
      runs,
      defaultProvider: 'scripted',
      rateLimitPerMinute: 1000,
      maxAgentsPerKey: 10,
      createTimeoutMs: 10_000,
      providers: providerCatalog(registry, { probeTimeoutMs: 2_000, cacheMs: 60_000, clock: { now: () => now } }),
    });
    server = await listen(handler, { port: 0, host: '127.0.0.1' });
    call = apiClient(server.url, ALICE_KEY);
  });
  afterAll(async () => {
    await runs?.close(1_000);
    await server?.close();
    await registry?.close();
  });

  it('needs an API key', async () => {
    expect((await call('GET', '/api/v1/providers', { key: null })).status).toBe(401);
  });

  it('lists every provider with its capabilities, and why one cannot run', async () => {
    const res = await call('GET', '/api/v1/providers');
    expect(res.status).toBe(200);
    expect(res.json.default_provider).toBe('scripted');
    const byName = Object.fromEntries(
      (res.json.providers as Array<{ name: string }>).map((p) => [p.name, p]),
    ) as Record<string, Record<string, unknown>>;
    expect(Object.keys(byName)).toEqual([
      'scripted',
      'codex',
      'codex-missing',
      'claude-code-missing',
      'gemini-missing',
      'broken',
      'silent',
      'no-start',
      'says-no',
      'deltas',
    ]);
    expect(byName.scripted).toMatchObject({ available: true, capabilities: { cancel: true } });
    // The real CLI from the devDependency.
    expect(byName.codex).toMatchObject({
      available: true,
      version: '0.171.0',
      // The app server (codex's default transport): replies, questions and deltas.
      capabilities: { resume: true, permissionReplies: true, questions: true, textDeltas: true, reasoning: true },
    });
    expect(byName['codex-missing']).toMatchObject({ available: false, capabilities: { resume: true } });
    expect(byName['codex-missing']!.reason).toMatch(/nonexistent\/forge-test\/codex.*not found/);
    expect(byName['claude-code-missing']).toMatchObject({ available: false });
    expect(byName['claude-code-missing']!.reason).toMatch(/not found/);
    expect(byName['gemini-missing']).toMatchObject({ available: false, capabilities: { permissionReplies: true } });
    expect(byName['gemini-missing']!.reason).toContain('/nonexistent/forge-test/gemini');
    expect(byName.broken).toMatchObject({ name: 'broken', available: false });
    expect(byName.broken!.reason).toContain('cannot build this one');
    expect(byName.silent).toMatchObject({ available: false, reason: 'no answer within 2000 ms' });
    expect(byName['no-start']).toMatchObject({ available: false, reason: 'spawn gemini ENOENT' });
    expect(byName['says-no']).toMatchObject({ available: false, reason: 'no GPU here' });
    expect(byName.deltas).toMatchObject({ available: true, version: '1.2.3', capabilities: { textDeltas: true } });
  });

  it("never lists a provider's key", async () => {
    const res = await call('GET', '/api/v1/providers');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('sk-never-listed-0123');
  });

  it('reuses an answer for cacheMs, then asks again', async () => {
    await call('GET', '/api/v1/providers');
    const built = probes;
    const scripted = await registry.get('scripted');
    let asked = 0;
    const original = scripted.capabilities.bind(scripted);
    (scripted as { capabilities: typeof original }).capabilities = async () => {
      asked++;
      return original();
    };
    await call('GET', '/api/v1/providers');
    expect(asked).toBe(0);
    now += 60_000;
    await call('GET', '/api/v1/providers');
    expect(asked).toBe(1);
    expect(probes).toBe(built);
  });
});
