import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const FIXTURES = ['text', 'tool', 'think', 'partial', 'maxturns'] as const;
export type FixtureName = (typeof FIXTURES)[number];

/** A recorded stdout of the real CLI (see `__fixtures__/README.md`). */
export function fixture(name: FixtureName): string {
  return readFileSync(join(here, '..', '__fixtures__', `${name}.jsonl`), 'utf8');
}

export function fixtureBytes(name: FixtureName): Uint8Array {
  return new TextEncoder().encode(fixture(name));
}
