import { AsyncLocalStorage } from 'node:async_hooks';
import { it, type TestContext } from 'vitest';
import type { CodeAgent } from '../agent.js';

type Body = (t: TestContext) => Promise<void>;

/**
 * The agents a conformance test made, closed when that test ends, even when its tests run side by side
 * (`concurrent`). Which test is making an agent is known from the async context its body runs in, so the
 * suite's tests call `make` as they always did and never close another test's agent while it runs.
 */
export class AgentsPerTest {
  private readonly current = new AsyncLocalStorage<CodeAgent[]>();
  private readonly outside: CodeAgent[] = [];

  constructor(
    private readonly build: (scenario: string) => CodeAgent | Promise<CodeAgent>,
    private readonly cleanup?: (agent: CodeAgent) => Promise<void>,
  ) {}

  async make(scenario: string): Promise<CodeAgent> {
    const agent = await this.build(scenario);
    (this.current.getStore() ?? this.outside).push(agent);
    return agent;
  }

  /** Closes agents made outside a test body (none are, in the suite): for an `afterAll`. */
  async closeRest(): Promise<void> {
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
