import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface RecordedLine {
  t: number;
  dir: '->' | '<-' | '--';
  msg: any;
}

/** A recorded transcript from `__fixtures__` (see its README). */
export function recorded(name: string): RecordedLine[] {
  return readFileSync(join(here, '..', '__fixtures__', `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RecordedLine);
}

/** What the agent wrote to stdout in a transcript, as ndjson bytes. */
export function agentOutput(name: string): string {
  return recorded(name)
    .filter((l) => l.dir === '<-')
    .map((l) => `${JSON.stringify(l.msg)}\n`)
    .join('');
}
