import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const FIXTURES = ['text', 'tool', 'think', 'partial', 'maxturns'] as const;
/** Recordings of the file, plan and subagent tools (see `__fixtures__/README.md`), not split byte by byte. */
export const VIEW_FIXTURES = ['edit-plan', 'subagent'] as const;
export type FixtureName = (typeof FIXTURES)[number] | (typeof VIEW_FIXTURES)[number];

/** A recorded stdout of the real CLI (see `__fixtures__/README.md`). */
export function fixture(name: FixtureName): string {
  return readFileSync(join(here, '..', '__fixtures__', `${name}.jsonl`), 'utf8');
}

export function fixtureBytes(name: FixtureName): Uint8Array {
  return new TextEncoder().encode(fixture(name));
}
