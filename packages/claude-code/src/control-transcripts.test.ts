import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessExit, ProcessRunner, RunningProcess } from '@forge/core';
import { AsyncQueue } from '@forge/core/internal';
import { firstEvent, runProblems } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { claudeCode } from './agent.js';

type Entry = { dir: 'stdin' | 'stdout'; msg: Record<string, unknown> } | { exit: number };

const here = dirname(fileURLToPath(import.meta.url));
const transcript = (name: string): Entry[] =>
  readFileSync(join(here, '__fixtures__', `control-${name}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);

/**
 * Replays a recorded control-protocol session of the real CLI: its stdout lines in order, and at each recorded
 * stdin line it waits for the adapter to write the matching message (same type, same control subtype), so the
 * adapter's side can be compared with what the Agent SDK sent. A `--version` probe answers 2.1.197.
 */
function replay(entries: Entry[]) {
  const written: Record<string, unknown>[] = [];
  const runner: ProcessRunner = {
    async spawn(_command, args) {
      const stdout = new AsyncQueue<Uint8Array>();
      const stderr = new AsyncQueue<Uint8Array>();
      const encoder = new TextEncoder();
      let wake: (() => void) | undefined;
      let resolveExit!: (e: ProcessExit) => void;
      const exited = new Promise<ProcessExit>((r) => (resolveExit = r));
      const exit = (e: ProcessExit) => {
        stdout.end();
        stderr.end();
        resolveExit(e);
      };
      if (args[0] === '--version') {
        stdout.push(encoder.encode('2.1.197 (Claude Code)\n'));
        queueMicrotask(() => exit({ code: 0, signal: null }));
      } else {
        void (async () => {
          let seen = 0;
          for (const entry of entries) {
            if ('exit' in entry) break;
            if (entry.dir === 'stdout') {
              stdout.push(encoder.encode(`${JSON.stringify(entry.msg)}\n`));
              continue;
            }
            const want = (m: Record<string, unknown>) =>
              m.type === entry.msg.type &&
              (m.type !== 'control_request' ||
                (m.request as { subtype?: string }).subtype === (entry.msg.request as { subtype?: string }).subtype);
            while (!written.slice(seen).some(want)) await new Promise<void>((r) => (wake = r));
            seen = written.findIndex((m, i) => i >= seen && want(m)) + 1;
          }
        })();
      }
      let carry = '';
      const running: RunningProcess = {
        pid: 1,
        stdout,
        stderr,
        stdin: {
          async write(data) {
            carry += typeof data === 'string' ? data : new TextDecoder().decode(data);
            const lines = carry.split('\n');
            carry = lines.pop()!;
            for (const l of lines) if (l) written.push(JSON.parse(l) as Record<string, unknown>);
            wake?.();
          },
          async end() {
            exit({ code: 0, signal: null });
          },
        },
        exited,
        kill(signal) {
          exit({ code: null, signal: signal ?? 'SIGTERM' });
          return true;
        },
      };
      return running;
    },
  };
  return { runner, written };
}

/** The recorded stdin message the SDK sent for the control response of `requestId`. */
const recordedResponse = (entries: Entry[], type: string) =>
  entries.find((e) => 'dir' in e && e.dir === 'stdin' && e.msg.type === type) as { msg: Record<string, unknown> };

describe('the recorded control-protocol sessions of the real CLI, replayed', () => {
  it('permission-allow: the adapter answers exactly as recorded', async () => {
    const entries = transcript('permission-allow');
    const { runner, written } = replay(entries);
    const agent = claudeCode({ runner });
    const run = agent.execute({ prompt: '[[write]] please write the file' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    const asked = (await reading.event) as { id: string; tool: string };
    expect(asked.tool).toBe('Write');
    await run.respond(asked.id, 'allow');
    const events = await reading.all;
    expect(runProblems(events, run.id)).toEqual([]);
    expect((await run.result).status).toBe('completed');
    expect(written.find((m) => m.type === 'control_response')).toEqual(
      recordedResponse(entries, 'control_response').msg,
    );
    // The same user message, plus the uuid the CLI's replay of it carries back (how steering is tracked).
    expect(written.find((m) => m.type === 'user')).toEqual({
      ...recordedResponse(entries, 'user').msg,
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    await agent.close?.();
  });

  it('permission-deny: deny with the message, as recorded', async () => {
    const entries = transcript('permission-deny');
    const { runner, written } = replay(entries);
    const agent = claudeCode({ runner });
    const run = agent.execute({ prompt: '[[write]] please write the file' });
    const asked = (await firstEvent(run, (e) => e.type === 'permission.requested').event) as { id: string };
    await run.respond(asked.id, 'deny', 'no thanks');
    expect((await run.result).status).toBe('completed');
    expect(written.find((m) => m.type === 'control_response')).toEqual(
      recordedResponse(entries, 'control_response').msg,
    );
    await agent.close?.();
  });

  it('ask-user-question: question.requested, and the answer as recorded', async () => {
    const entries = transcript('ask-user-question');
    const { runner, written } = replay(entries);
    const agent = claudeCode({ runner });
    const run = agent.execute({ prompt: '[[ask]] ask me' });
    const asked = (await firstEvent(run, (e) => e.type === 'question.requested').event) as {
      id: string;
      questions: unknown;
    };
    expect(asked.questions).toEqual([
      {
        question: 'Which color do you prefer?',
        header: 'Color',
        options: [
          { label: 'Red', description: 'warm' },
          { label: 'Blue', description: 'cool' },
        ],
        multiple: false,
        custom: true,
      },
    ]);
    await run.answer(asked.id, [['Blue']]);
    expect((await run.result).status).toBe('completed');
    expect(written.find((m) => m.type === 'control_response')).toEqual(
      recordedResponse(entries, 'control_response').msg,
    );
    await agent.close?.();
  });

  it('permission-interrupt: cancel sends interrupt, the withdrawn request and the result end the run cancelled', async () => {
    const entries = transcript('permission-interrupt');
    const { runner, written } = replay(entries);
    const agent = claudeCode({ runner });
    const run = agent.execute({ prompt: '[[write]] please write the file' });
    const reading = firstEvent(run, (e) => e.type === 'permission.requested');
    await reading.event;
    const result = await run.cancel();
    expect(result).toMatchObject({ status: 'cancelled', sessionId: '914c1cf1-1de6-4eda-9560-4a95751aed68' });
    expect(runProblems(await reading.all, run.id)).toEqual([]);
    expect(written.filter((m) => m.type === 'control_request').map((m) => m.request)).toEqual([
      { subtype: 'initialize', hooks: null },
      { subtype: 'interrupt' },
    ]);
    await agent.close?.();
  });
});
