import { readFileSync } from 'node:fs';
import path from 'node:path';
import { acpAgent } from '@forge/acp';
import { ACP_PROBED_CAPABILITIES, acpDeclaredCapabilities } from '@forge/acp/internal';
import { claudeCode } from '@forge/claude-code';
import { claudeCodeDeclaredCapabilities } from '@forge/claude-code/internal';
import { codex } from '@forge/codex';
import { codexDeclaredCapabilities } from '@forge/codex/internal';
import type { AgentCapabilities } from '@forge/core';
import { fakeProcessRunner } from '@forge/core/testing';
import { opencode } from '@forge/opencode';
import { opencodeDeclaredCapabilities } from '@forge/opencode/internal';
import { describe, expect, it } from 'vitest';
import { generatedRegions, PROVIDERS, readmeProviderTable, replaceRegions } from './provider-tables.js';

const root = path.resolve(import.meta.dirname, '..');

describe('generated docs', () => {
  for (const [file, regions] of Object.entries(generatedRegions())) {
    it(`${file} holds the provider tables the code declares (else run \`pnpm docs\`)`, () => {
      const committed = readFileSync(path.join(root, file), 'utf8');
      expect(committed).toBe(replaceRegions(committed, regions, file));
    });
  }

  it('renders each cell from the declaration, so a changed capability changes the table', () => {
    const claude = PROVIDERS.find((p) => p.package === '@forge/claude-code')!;
    expect(claude.capabilities).toMatchObject({ permissionReplies: true, questions: true });
    const flipped = { ...claude, capabilities: { ...(claude.capabilities as object), questions: false } };
    expect(readmeProviderTable([flipped as typeof claude])).toContain('| no (`AskUserQuestion`');
    expect(readmeProviderTable([claude])).toContain('| yes (`AskUserQuestion`');
  });

  it('refuses a file whose markers are gone instead of leaving its table stale', () => {
    expect(() => replaceRegions('# no markers\n', { providers: 'x' }, 'README.md')).toThrow(/markers/);
  });
});

describe('what the tables are rendered from is what capabilities() answers at run time', () => {
  const flags = (c: AgentCapabilities) => {
    const { version: _v, available: _a, unavailableReason: _u, extra: _e, models: _m, ...rest } = c;
    return rest;
  };
  const version = fakeProcessRunner({ stdout: ['9.9.9 (fake)\n'] });

  it('claude-code, codex: the declaration, plus the probed version', async () => {
    expect(flags(await claudeCode({ runner: version }).capabilities())).toEqual(
      flags(claudeCodeDeclaredCapabilities()),
    );
    expect(flags(await codex({ runner: version }).capabilities())).toEqual(flags(codexDeclaredCapabilities()));
  });

  it('opencode: the declaration, also with no server to ask', async () => {
    const agent = opencode({ baseUrl: 'http://127.0.0.1:1', fetch: async () => new Response('', { status: 503 }) });
    expect(flags(await agent.capabilities())).toEqual(flags(opencodeDeclaredCapabilities({ ownServer: false })));
  });

  it('acp: the declaration, where the agent could not say more (the probed fields read false)', async () => {
    const agent = acpAgent({ command: 'forge-no-such-acp-agent', runner: fakeProcessRunner({ spawnError: 'ENOENT' }) });
    expect(flags(await agent.capabilities())).toEqual(flags(acpDeclaredCapabilities()));
    for (const probed of ACP_PROBED_CAPABILITIES) expect(acpDeclaredCapabilities()[probed]).toBe(false);
  });
});
