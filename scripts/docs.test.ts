import { readFileSync } from 'node:fs';
import path from 'node:path';
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
