import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AgentEvent,
  type AgentRun,
  type CodeAgent,
  localProcessRunner,
  type ProcessRunner,
  type RunningProcess,
} from '@forge/core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type CodexOptions, codex } from '../agent.js';
import {
  codexBinPath,
  type FakeResponsesApi,
  type FakeResponsesResponder,
  type FakeResponsesRequest,
  fakeResponsesProvider,
  startFakeResponsesApi,
} from '../testing/index.js';

export interface RealAppServer {
  /** The fake Responses API; its requests are cleared before each test. */
  readonly api: FakeResponsesApi;
  /** A scratch directory, the agents' cwd (HOME and CODEX_HOME are inside it). */
  readonly scratch: string;
  /** How the fake answers; set per test. */
  respond(responder: FakeResponsesResponder): void;
  /** The model calls the fake received (`POST …/responses`). */
  calls(): FakeResponsesRequest[];
  /** An agent on the real CLI (the default transport, the app server) pointed at the fake; closed after each test. */
  agent(options?: Partial<CodexOptions>): CodeAgent;
  /**
   * An agent kept for the whole file (its app server is started once), one per `key`; closed after all tests.
   * For tests that need no fresh server.
   */
  shared(key: string, options?: Partial<CodexOptions>): CodeAgent;
  readonly spawned: RunningProcess[];
}

/**
 * The harness of the app-server integration tests: the real CLI (`codexBinPath()`) as `codex app-server` against
 * the fake Responses API on 127.0.0.1, with a scratch CODEX_HOME. Registers its own vitest hooks.
 */
export function useRealAppServer(): RealAppServer {
  let api: FakeResponsesApi;
  let scratch: string;
  let responder: FakeResponsesResponder = () => ({ text: 'unset' });
  const spawned: RunningProcess[] = [];
  const agents: CodeAgent[] = [];
  const kept = new Map<string, CodeAgent>();
  const local = localProcessRunner();
  const runner: ProcessRunner = {
    async spawn(command, args, options) {
      const p = await local.spawn(command, args, options);
      spawned.push(p);
      return p;
    },
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'forge-codex-asf-'));
    await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
    api = await startFakeResponsesApi({ respond: (req) => responder(req) });
  });
  beforeEach(() => {
    api.requests.length = 0;
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close?.()));
  });
  afterAll(async () => {
    await Promise.all([...kept.values()].map((a) => a.close?.()));
    kept.clear();
    for (const p of spawned) if (p.pid !== undefined && alive(p.pid)) p.kill('SIGKILL');
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  return {
    get api() {
      return api;
    },
    get scratch() {
      return scratch;
    },
    spawned,
    respond(r) {
      responder = r;
    },
    calls: () => api.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/responses')),
    shared(key, options = {}) {
      let a = kept.get(key);
      if (!a) {
        a = make(options);
        kept.set(key, a);
      }
      return a;
    },
    agent(options = {}) {
      const a = make(options);
      agents.push(a);
      return a;
    },
  };

  function make(options: Partial<CodexOptions>): CodeAgent {
    return codex({
      runner,
      bin: codexBinPath(),
      cwd: scratch,
      model: 'fake-model',
      provider: fakeResponsesProvider(api.url),
      env: { HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') },
      sigintGraceMs: 3_000,
      ...options,
    });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);

/** Reads a run to its end, calling `on` for each event (answering permissions, steering…). */
export async function drive(run: AgentRun, on: (event: AgentEvent) => Promise<void> | void = () => undefined) {
  const events: AgentEvent[] = [];
  for await (const e of run) {
    events.push(e);
    await on(e);
  }
  return { events, result: await run.result };
}
