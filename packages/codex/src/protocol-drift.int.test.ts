import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateProtocolSubset } from './test-support/protocol-subset.js';

const here = dirname(fileURLToPath(import.meta.url));
const checkedIn = join(here, 'gen');
const wrapper = join(here, '..', 'node_modules', '@openai', 'codex', 'bin', 'codex.js');

async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) {
      const path = join(e.parentPath, e.name);
      out.set(relative(dir, path), await readFile(path, 'utf8'));
    }
  return out;
}

describe('the checked-in app-server protocol (src/gen)', () => {
  it('is exactly what the installed CLI generates (else: pnpm --filter @forge/codex gen:protocol)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'forge-codex-drift-'));
    try {
      generateProtocolSubset(wrapper, out);
      const [now, kept] = await Promise.all([tree(out), tree(checkedIn)]);
      expect([...kept.keys()].sort()).toEqual([...now.keys()].sort());
      for (const [file, text] of now) expect(kept.get(file), file).toBe(text);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
