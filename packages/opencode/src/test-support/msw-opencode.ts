import { runProblems } from '@forge/core/testing';
import type { AgentEvent } from '@forge/core';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { opencode, type OpencodeOptions } from '../index.js';
import { FakeOpencode, type FakeOpencodeOptions } from './fake-opencode.js';
import { recordedFrames, recordedSession, type Recording } from './recorded.js';

/**
 * The adapter against FakeOpencode behind msw, for a test file: registers the file's hooks (msw listening,
 * handlers reset and agents closed after each test) and returns what its tests share.
 */
export function mswOpencode() {
  const msw = setupServer();
  beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => msw.resetHandlers());
  afterAll(() => msw.close());

  const agents: Array<{ close?(): Promise<void> }> = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.close?.();
  });

  const noWait = async () => {};

  function setup(fakeOptions: FakeOpencodeOptions = {}, agentOptions: Partial<OpencodeOptions> = {}) {
    const fake = new FakeOpencode(fakeOptions);
    msw.use(...fake.handlers());
    const agent = opencode({ baseUrl: fake.baseUrl, sleep: noWait, ...agentOptions });
    agents.push(agent);
    return { fake, agent };
  }

  return { msw, setup, agents, noWait };
}

/** The frames of a recording after its own `server.connected` (the fake sends one itself). */
export function body(name: Recording): { sid: string; frames: string[] } {
  const frames = recordedFrames(name).filter((f) => !f.includes('"server.connected"'));
  return { sid: recordedSession(frames), frames };
}

export const isType = (type: string) => (f: string) => (JSON.parse(f) as { type: string }).type === type;
export const indexOf = (frames: string[], type: string, nth = 1) => {
  let seen = 0;
  return frames.findIndex((f) => isType(type)(f) && ++seen === nth);
};

export function sound(events: AgentEvent[]) {
  expect(runProblems(events)).toEqual([]);
}
