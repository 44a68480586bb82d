import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '__fixtures__');

export const FIXTURES = [
  'text',
  'tool',
  'resume',
  'write-workspace',
  'write-readonly',
  'e400',
  'e401',
  'e429',
  'e500',
  'e500-default',
  'failed',
  'midstream',
  'bad-port',
  'cancel-sigint',
  'cancel-stream-sigterm',
] as const;
export type FixtureName = (typeof FIXTURES)[number];

/** A recorded stdout of the real CLI (see `__fixtures__/README.md`). */
export function fixture(name: FixtureName): string {
  return readFileSync(join(dir, `${name}.jsonl`), 'utf8');
}

/** A recorded stderr of the real CLI. */
export function stderrFixture(name: 'resume-unknown' | 'missing-native' | 'chat-wire'): string {
  return readFileSync(join(dir, `${name}.stderr`), 'utf8');
}

export const THREAD = '01a233fe-7fe9-7672-abf1-9ee6689e901f';

export const line = (event: Record<string, unknown>) => `${JSON.stringify(event)}\n`;
export const threadStarted = (id = THREAD) => line({ type: 'thread.started', thread_id: id });
export const turnStarted = () => line({ type: 'turn.started' });
export const agentMessage = (text: string, id = 'item_1') =>
  line({ type: 'item.completed', item: { id, type: 'agent_message', text } });
export const turnCompleted = () =>
  line({
    type: 'turn.completed',
    usage: {
      input_tokens: 100,
      cached_input_tokens: 40,
      cache_write_input_tokens: 0,
      output_tokens: 7,
      reasoning_output_tokens: 2,
    },
  });
