import { afterAll, describe, expect } from 'vitest';
import type { AgentRun, CodeAgent } from '../agent.js';
import { isForgeError, NotFoundError, UnsupportedError, UnsupportedFieldError, ValidationError } from '../errors.js';
import type { AgentEvent } from '../events.js';
import type { AgentRequestInput } from '../request.js';
import { REQUEST_FEATURES } from '../request-features.js';
import { collectRun, firstEvent, runProblems } from './collect.js';
import { AgentsPerTest } from './conformance-agents.js';
import { FEATURE_SAMPLES } from './feature-samples.js';
import { describePolicyConformance } from './conformance-policies.js';

export { sessionStoreContract, type SessionStoreContractOptions } from './session-store-contract.js';
export { expectUnansweredPermissionDenied } from './unanswered-permission.js';

const RESOLVED = { permission: 'permission.resolved', question: 'question.resolved' } as const;
/** A relay declares the fields its wire carries as probed: the remote agent decides them. */
const isRelay = (agent: CodeAgent) => agent.declared?.probed.includes('systemPrompt') ?? false;

/**
 * `complete`: a run that emits at least one event and completes.
 * `hang`: a run that emits at least one event, then keeps going until it is stopped.
 * `permission`: a run that emits one `permission.requested`, waits for the answer, then completes whatever it was.
 * `question`: a run that emits one `question.requested`, waits for the answer, then completes.
 * An adapter must play `permission` when it declares `permissionReplies`, and `question` when it declares `questions`.
 */
export type ConformanceScenario = 'complete' | 'hang' | 'permission' | 'question';

export interface ConformanceOptions {
  /** Builds a fresh agent whose provider plays the scenario. */
  makeAgent(scenario: ConformanceScenario): CodeAgent | Promise<CodeAgent>;
  /** Extra request fields every test sends (e.g. a cwd). */
  request?: Partial<AgentRequestInput>;
  /** The timeout used by the timeout test. Default 300 ms. */
  timeoutMs?: number;
  /** Per-test time limit. Default 20 s. */
  testTimeoutMs?: number;
  /** The `afterMs` of the unanswered-permission and unanswered-question cases. Default 300 ms. */
  deadlineMs?: number;
  /** Release anything an agent holds (servers, processes). `agent.close()` is always called. */
  cleanup?(agent: CodeAgent): Promise<void>;
  /**
   * Runs the tests side by side (vitest's `concurrent`, up to its `maxConcurrency`), for agents whose tests mostly
   * wait for a real program. `makeAgent` must then keep scenarios apart (e.g. one fake model server per scenario)
   * rather than switch one shared fake to the scenario last asked for. Each test's agents are closed when it ends.
   */
  concurrent?: boolean;
  /**
   * One agent per scenario for the whole suite (made on first use, closed when the suite ends) instead of one per
   * test. For an agent whose one long-lived program serves every run as a session of its own (an ACP agent
   * process), where starting the program costs far more than the run: the suite's runs then also share it, side
   * by side where `concurrent`. `makeAgent` is called once per scenario.
   */
  shareAgents?: boolean;
}

/** The behaviour every CodeAgent must show. Run it from each adapter's tests. */
export function describeCodeAgentConformance(name: string, options: ConformanceOptions): void {
  const timeoutMs = options.timeoutMs ?? 300;
  const limit = options.testTimeoutMs ?? 20_000;
  const agents = new AgentsPerTest(
    (scenario) => options.makeAgent(scenario as ConformanceScenario),
    options.cleanup && ((agent) => options.cleanup!(agent)),
    options.shareAgents ?? false,
  );
  const make = (scenario: ConformanceScenario) => agents.make(scenario);
  const it = agents.it;
  const req = (prompt = 'conformance check', extra: Partial<AgentRequestInput> = {}): AgentRequestInput => ({
    ...options.request,
    ...extra,
    prompt,
  });
  const expectSound = (events: AgentEvent[], run: AgentRun, provider: string) => {
    expect(runProblems(events, run.id)).toEqual([]);
    for (const e of events) expect(e.provider).toBe(provider);
    for (let i = 1; i < events.length; i++) expect(events[i]!.time).toBeGreaterThanOrEqual(events[i - 1]!.time);
  };

  describe(`CodeAgent conformance: ${name}`, { concurrent: options.concurrent ?? false }, () => {
    afterAll(() => agents.closeRest());

    it('reports its capabilities', { timeout: limit }, async () => {
      const agent = await make('complete');
      const caps = await agent.capabilities();
      expect(typeof caps.cancel).toBe('boolean');
      expect(typeof caps.resume).toBe('boolean');
      expect(Array.isArray(caps.models)).toBe(true);
      expect(agent.provider).toMatch(/\S/);
    });

    it('numbers events 1, 2, 3… and ends with exactly one run.completed that matches the result', {
      timeout: limit,
    }, async () => {
      const agent = await make('complete');
      const run = agent.execute(req());
      const { events, result } = await collectRun(run);
      expect(events.length).toBeGreaterThan(1);
      expectSound(events, run, agent.provider);
      const last = events[events.length - 1]!;
      expect(last.type === 'run.completed' && last.result).toEqual(result);
      expect(result.status).toBe('completed');
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('rejects an invalid request before any work, with a typed error', { timeout: limit }, async () => {
      const agent = await make('complete');
      expect(() => agent.execute(req('   '))).toThrow(ValidationError);
      try {
        agent.execute(req('ok', { timeoutMs: -5 }));
        expect.unreachable('a negative timeout must be refused');
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).code).toBe('INVALID_TIMEOUT');
        expect((error as ValidationError).issues.map((i) => i.path)).toContain('timeoutMs');
      }
    });

    it('cancels before the first event', { timeout: limit }, async () => {
      const agent = await make('hang');
      const run = agent.execute(req());
      const cancelled = run.cancel();
      const { events, result } = await collectRun(run);
      expect(await cancelled).toEqual(result);
      expect(result.status).toBe('cancelled');
      expectSound(events, run, agent.provider);
    });

    it('cancels mid-stream and keeps the session id', { timeout: limit }, async () => {
      const agent = await make('hang');
      const run = agent.execute(req());
      const reading = firstEvent(run);
      const first = await reading.event;
      const result = await run.cancel('test');
      const events = await reading.all;
      expect(result.status).toBe('cancelled');
      expect(result.error?.code).toBe('CANCELLED');
      expectSound(events, run, agent.provider);
      const started = events.find((e) => e.type === 'session.started');
      if (started?.type === 'session.started') expect(result.sessionId).toBe(started.sessionId);
      expect(first.seq).toBe(1);
    });

    it('treats cancel as idempotent: twice, and after the end', { timeout: limit }, async () => {
      const agent = await make('hang');
      const run = agent.execute(req());
      const [a, b] = await Promise.all([run.cancel(), run.cancel()]);
      expect(a).toEqual(b);
      const { events } = await collectRun(run);
      expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);

      const done = (await make('complete')).execute(req());
      const { result } = await collectRun(done);
      expect(await done.cancel()).toEqual(result);
      expect(result.status).toBe('completed');
    });

    it('cancels by run id through the agent', { timeout: limit }, async () => {
      const agent = await make('hang');
      const run = agent.execute(req());
      const reading = firstEvent(run);
      await reading.event;
      expect(await agent.cancel(run.id)).toBe(true);
      expect((await run.result).status).toBe('cancelled');
      expect(await agent.cancel(run.id)).toBe(false);
      expect(await agent.cancel('no-such-run')).toBe(false);
      expectSound(await reading.all, run, agent.provider);
    });

    it('cancels when the abort signal fires, or was aborted already', { timeout: limit }, async () => {
      const agent = await make('hang');
      const controller = new AbortController();
      const run = agent.execute(req(), { signal: controller.signal });
      const reading = firstEvent(run);
      await reading.event;
      controller.abort();
      expect((await run.result).status).toBe('cancelled');
      expectSound(await reading.all, run, agent.provider);

      const early = agent.execute(req(), { signal: AbortSignal.abort() });
      const { events, result } = await collectRun(early);
      expect(result.status).toBe('cancelled');
      expectSound(events, early, agent.provider);
    });

    it('ends a run that exceeds timeoutMs as timed_out', { timeout: limit }, async () => {
      const agent = await make('hang');
      const run = agent.execute(req('conformance check', { timeoutMs }));
      const { events, result } = await collectRun(run);
      expect(result.status).toBe('timed_out');
      expect(result.error?.code).toBe('TIMED_OUT');
      expectSound(events, run, agent.provider);
    });

    it('keeps concurrent runs apart', { timeout: limit }, async () => {
      const agent = await make('complete');
      const runs = [agent.execute(req('one')), agent.execute(req('two')), agent.execute(req('three'))];
      expect(new Set(runs.map((r) => r.id)).size).toBe(3);
      const outcomes = await Promise.all(runs.map(collectRun));
      outcomes.forEach(({ events, result }, i) => {
        expectSound(events, runs[i]!, agent.provider);
        expect(result.status).toBe('completed');
      });
    });

    const interactive = [
      { scenario: 'permission', capability: 'permissionReplies', event: 'permission.requested' },
      { scenario: 'question', capability: 'questions', event: 'question.requested' },
    ] as const;
    type Interactive = (typeof interactive)[number];
    /** Starts a run of the scenario and waits for its request, or skips when the capability is not declared. */
    const asking = async (which: Interactive, skip: (note: string) => void) => {
      const agent = await make(which.scenario);
      const caps = await agent.capabilities();
      if (!caps[which.capability]) skip(`${agent.provider} does not declare ${which.capability}`);
      const run = agent.execute(req());
      const reading = firstEvent(run, (e) => e.type === which.event);
      const asked = await reading.event;
      return { agent, run, reading, asked: asked as AgentEvent & { id: string } };
    };
    const answer = (run: AgentRun, asked: AgentEvent, positive: boolean) => {
      if (asked.type === 'permission.requested') return run.respond(asked.id, positive ? 'allow' : 'deny', 'no');
      if (asked.type !== 'question.requested') throw new Error(`not a request: ${asked.type}`);
      return run.answer(
        asked.id,
        asked.questions.map((q) => (q.options.length ? [q.options[0]!.label] : ['yes'])),
      );
    };

    for (const which of interactive) {
      it(`${which.event}: an answer reaches the agent and the run completes`, { timeout: limit }, async (t) => {
        const { agent, run, reading, asked } = await asking(which, (note) => t.skip(note));
        expect(typeof asked.id).toBe('string');
        expect(run.pending().map((e) => e.id)).toContain(asked.id);
        await answer(run, asked, true);
        expect(run.pending().map((e) => e.id)).not.toContain(asked.id);
        const events = await reading.all;
        expectSound(events, run, agent.provider);
        expect((await run.result).status).toBe('completed');
        expect(run.pending()).toEqual([]);
        // Relays carry the remote run's events; the resolution is checked where the run is local.
        const resolved = events.find((e) => e.type === RESOLVED[which.scenario]);
        if (agent.declared && !isRelay(agent)) expect(resolved).toMatchObject({ id: asked.id, by: 'host' });
      });

      it(`${which.event}: refuses an unknown id and a second answer with NotFoundError`, {
        timeout: limit,
      }, async (t) => {
        const { agent, run, reading, asked } = await asking(which, (note) => t.skip(note));
        const unknown =
          which.scenario === 'permission' ? run.respond('no-such-id', 'allow') : run.answer('no-such-id', [['x']]);
        await expect(unknown).rejects.toBeInstanceOf(NotFoundError);
        await answer(run, asked, false);
        const again = answer(run, asked, false);
        await expect(again).rejects.toSatisfy((e: unknown) => isForgeError(e) && e.category !== 'internal');
        expectSound(await reading.all, run, agent.provider);
      });

      it(`${which.event}: cancel while it waits ends the run cancelled, once, keeping the session`, {
        timeout: limit,
      }, async (t) => {
        const { agent, run, reading } = await asking(which, (note) => t.skip(note));
        const result = await run.cancel('the user walked away');
        const events = await reading.all;
        expect(result.status).toBe('cancelled');
        expectSound(events, run, agent.provider);
        const started = events.find((e) => e.type === 'session.started');
        if (started?.type === 'session.started') expect(result.sessionId).toBe(started.sessionId);
      });

      it(`${which.event}: times out while it waits as timed_out, once`, { timeout: limit }, async (t) => {
        const agent = await make(which.scenario);
        if (!(await agent.capabilities())[which.capability])
          t.skip(`${agent.provider} does not declare ${which.capability}`);
        const run = agent.execute(req('conformance check', { timeoutMs: Math.max(timeoutMs, 1_500) }));
        const { events, result } = await collectRun(run);
        expect(result.status).toBe('timed_out');
        expectSound(events, run, agent.provider);
      });
    }

    it('refuses answers it cannot take with UnsupportedError', { timeout: limit }, async (t) => {
      const agent = await make('hang');
      const caps = await agent.capabilities();
      if (caps.permissionReplies && caps.questions) t.skip(`${agent.provider} takes both kinds of answer`);
      const run = agent.execute(req());
      const reading = firstEvent(run);
      await reading.event;
      if (!caps.permissionReplies) await expect(run.respond('p', 'allow')).rejects.toBeInstanceOf(UnsupportedError);
      if (!caps.questions) await expect(run.answer('q', [['a']])).rejects.toBeInstanceOf(UnsupportedError);
      await run.cancel();
      expectSound(await reading.all, run, agent.provider);
    });

    const declaredCase = (title: string, body: (agent: CodeAgent) => Promise<void>) =>
      it(title, { timeout: limit }, async (t) => {
        const agent = await make('complete');
        if (!agent.declared) t.skip(`${agent.provider} declares nothing of its own`);
        await body(agent);
      });

    declaredCase('refuses every declared-unsupported field with UNSUPPORTED_FIELD before any work', async (agent) => {
      const { capabilities, probed } = agent.declared!;
      for (const feature of REQUEST_FEATURES) {
        if (capabilities[feature] !== false || probed.includes(feature)) continue;
        let thrown: unknown;
        // Synchronous: `execute` throws, so there is no run, and no process or request was started for one.
        try {
          agent.execute(req('conformance check', FEATURE_SAMPLES[feature]));
        } catch (error) {
          thrown = error;
        }
        expect(thrown, `${feature} must be refused`).toBeInstanceOf(UnsupportedFieldError);
        expect((thrown as UnsupportedFieldError).code).toBe('UNSUPPORTED_FIELD');
        expect((thrown as UnsupportedFieldError).fields.join(' ')).toContain(
          Object.keys(FEATURE_SAMPLES[feature]).find((k) => k !== 'sessionId'),
        );
      }
    });

    declaredCase('lets every declared-supported field reach the agent', async (agent) => {
      const { capabilities, probed } = agent.declared!;
      const features = REQUEST_FEATURES.filter((f) => capabilities[f] !== false && !probed.includes(f) && f !== 'fork');
      const reach = async (feature: (typeof features)[number]) => {
        const result = await agent.execute(req('conformance check', FEATURE_SAMPLES[feature])).result;
        expect(result.error?.code ?? '', `${feature} reached the agent`).not.toMatch(/^UNSUPPORTED/);
      };
      // Side by side where the suite runs concurrently: each run is its own session, and mostly waits.
      if (options.concurrent) await Promise.all(features.map(reach));
      else for (const feature of features) await reach(feature);
    });

    describePolicyConformance({ make, it, req, expectSound, deadlineMs: options.deadlineMs ?? 300, limit });

    it('keeps every event for a reader that comes late', { timeout: limit }, async () => {
      const agent = await make('complete');
      const run = agent.execute(req());
      const result = await run.result;
      const { events } = await collectRun(run);
      expectSound(events, run, agent.provider);
      const last = events[events.length - 1]!;
      expect(last.type === 'run.completed' && last.result).toEqual(result);
    });
  });
}
