import { AsyncLocalStorage } from 'node:async_hooks';
import { it, type TestContext } from 'vitest';
import type { CodeAgent } from '../agent.js';

type Body = (t: TestContext) => Promise<void>;

/**
 * The agents a conformance test made, closed when that test ends, even when its tests run side by side
 * (`concurrent`). Which test is making an agent is known from the async context its body runs in, so the
 * suite's tests call `make` as they always did and never close another test's agent while it runs.
 *
 * With `share`, each scenario has one agent for the whole suite instead, made on first use and closed by
 * `closeRest`: for agents whose one long-lived program serves every run (an ACP agent process), where starting
 * that program costs far more than a run.
 */
export class AgentsPerTest {
  private readonly current = new AsyncLocalStorage<CodeAgent[]>();
  private readonly outside: CodeAgent[] = [];
  private readonly shared = new Map<string, Promise<CodeAgent>>();

  constructor(
    private readonly build: (scenario: string) => CodeAgent | Promise<CodeAgent>,
    private readonly cleanup?: (agent: CodeAgent) => Promise<void>,
    private readonly share = false,
  ) {}

  async make(scenario: string): Promise<CodeAgent> {
    if (this.share) return this.sharedAgent(scenario);
    const agent = await this.build(scenario);
    (this.current.getStore() ?? this.outside).push(agent);
    return agent;
  }

  private sharedAgent(scenario: string): Promise<CodeAgent> {
    let agent = this.shared.get(scenario);
    if (!agent) {
      // Tests running side by side ask at once: they all wait for the one agent being made.
      agent = Promise.resolve(this.build(scenario)).then((made) => {
        this.outside.push(made);
        return made;
      });
      agent.catch(() => this.shared.delete(scenario));
      this.shared.set(scenario, agent);
    }
    return agent;
  }

  /** Closes agents made outside a test body (none are, in the suite) and the shared ones: for an `afterAll`. */
  async closeRest(): Promise<void> {
    this.shared.clear();
    for (const agent of this.outside.splice(0)) await this.release(agent);
  }

  /** `it`, with the agents the body made closed once it has ended (passed, failed, skipped or timed out). */
  readonly it = (title: string, options: { timeout: number }, body: Body): void => {
    it(title, options, (t) => {
      const mine: CodeAgent[] = [];
      // The test's own hook, not a `finally`: it also runs when the test timed out with its body still waiting.
      t.onTestFinished(async () => {
        for (const agent of mine.splice(0)) await this.release(agent);
      });
      return this.current.run(mine, () => body(t));
    });
  };

  private async release(agent: CodeAgent): Promise<void> {
    await agent.close?.();
    await this.cleanup?.(agent);
  }
}
