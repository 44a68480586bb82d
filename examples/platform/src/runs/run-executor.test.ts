import type { AgentEvent, CodeAgent } from '@forge/core';
import { scriptedAgent } from '@forge/core/testing';
import { type ForgeStore, type JournalEvent, RunLeaseLostError, type RunStore } from '@forge/store';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../logger.js';
import { RunManager } from '../run-manager.js';
import { testStore } from '../test-support/api-harness.js';
import type { WebhookDispatcherPort } from '../webhook-port.js';

let agentNo = 0;
const newAgent = () => `agt_ex${++agentNo}`;

/**
 * The shared test store, with `append` refusing the batches `refuse` picks the way a database
 * refuses a value (PostgreSQL: "unsupported Unicode escape sequence" for a NUL in jsonb).
 */
async function refusingStore(
  refuse: (events: readonly { body: string }[], final: boolean) => unknown,
  /** `finish` (a run ended here) throws what this returns, when it returns something. */
  refuseFinish: () => unknown = () => undefined,
): Promise<ForgeStore> {
  const store = await testStore();
  const runs = new Proxy(store.runs, {
    get(target, key) {
      if (key === 'append')
        return async (...args: Parameters<RunStore['append']>) => {
          const error = refuse(args[2], args[3] !== undefined);
          if (error) throw error;
          return target.append(...args);
        };
      if (key === 'finish')
        return async (...args: Parameters<RunStore['finish']>) => {
          const error = refuseFinish();
          if (error) throw error;
          return target.finish(...args);
        };
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { ...store, runs };
}

const hasNul = (events: readonly { body: string }[]) => events.some((e) => e.body.includes('\\u0000'));

function finalWebhooks() {
  const finals: string[] = [];
  const port: WebhookDispatcherPort = {
    async open(o) {
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      return {
        send(event, options) {
          options?.onSettled?.('delivered');
          if (event.type === 'run.completed') {
            finals.push(o.requestId);
            finish();
          }
        },
        done,
        stop: () => finish(),
      };
    },
    close: async () => {},
  };
  return { port, finals };
}

const drain = async (it: AsyncIterable<JournalEvent>) => {
  const out: AgentEvent[] = [];
  for await (const e of it) out.push(JSON.parse(e.body) as AgentEvent);
  return out;
};

async function manager(agents: Record<string, CodeAgent>, store: ForgeStore, webhooks?: WebhookDispatcherPort) {
  const logger = memoryLogger();
  const runs = await RunManager.create({
    store,
    agents: async (_user, agentId) => agents[agentId],
    logger,
    pollMs: 50,
    ...(webhooks ? { webhooks } : {}),
  });
  opened.push(runs);
  return { runs, logger };
}

/** Closed after each test even when it fails, so no manager of one claims the next one's runs from the shared store. */
const opened: RunManager[] = [];
// PGlite's start is slow on a busy machine: paid once here, not inside the first test's time.
beforeAll(() => testStore(), 120_000);
afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.close(0)));
});

describe('RunExecutor: a journal write that fails', () => {
  // Failed first: the run stayed `running` for good, follow never ended, the next message never started.
  it('for a reason other than a lost lease (a NUL the database refuses) ends the run failed STORE_WRITE_FAILED with one run.completed, its final webhook, and frees the agent', async () => {
    const a = newAgent();
    const nul = scriptedAgent({
      steps: (req) =>
        req.prompt === 'nul' ? [{ type: 'message', text: 'bad \u0000 answer' }] : [{ type: 'message', text: 'ok' }],
    });
    const hooks = finalWebhooks();
    const store = await refusingStore((events) =>
      hasNul(events) ? new Error('unsupported Unicode escape sequence') : undefined,
    );
    const { runs, logger } = await manager({ [a]: nul }, store, hooks.port);
    const bad = await runs.submit({
      userId: 'u',
      agentId: a,
      request: { prompt: 'nul' },
      webhook: { url: 'https://h.example/x' },
    });
    const next = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'fine' } });
    const events = await drain(runs.follow(bad.run.requestId, 0, AbortSignal.timeout(3_000)));
    const finals = events.filter((e) => e.type === 'run.completed');
    expect(finals).toHaveLength(1);
    expect(finals[0]).toMatchObject({ result: { status: 'failed', error: { code: 'STORE_WRITE_FAILED' } } });
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((x, y) => x - y));
    expect(await runs.get('u', bad.run.requestId)).toMatchObject({
      status: 'failed',
      error: { code: 'STORE_WRITE_FAILED' },
    });
    const after = await drain(runs.follow(next.run.requestId, 0, AbortSignal.timeout(3_000)));
    expect(after.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed', text: 'ok' } });
    await runs.idle();
    expect(hooks.finals).toContain(bad.run.requestId);
    expect(logger.lines.some((e) => e.message === 'journal write failed; stopping the run')).toBe(true);
    await runs.close();
  });

  it('mid-run, for a reason other than a lost lease, stops the agent and ends the run failed STORE_WRITE_FAILED', async () => {
    const a = newAgent();
    const agent = scriptedAgent({
      steps: (req) =>
        req.prompt === 'nul'
          ? [{ type: 'text.delta', text: 'a\u0000' }, { hang: true }]
          : [{ type: 'message', text: 'ok' }],
    });
    const store = await refusingStore((events) => (hasNul(events) ? new Error('connection reset') : undefined));
    const { runs } = await manager({ [a]: agent }, store);
    const bad = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'nul' } });
    const next = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'fine' } });
    const events = await drain(runs.follow(bad.run.requestId, 0, AbortSignal.timeout(3_000)));
    expect(events.filter((e) => e.type === 'run.completed')).toEqual([
      expect.objectContaining({
        result: expect.objectContaining({ error: expect.objectContaining({ code: 'STORE_WRITE_FAILED' }) }),
      }),
    ]);
    const after = await drain(runs.follow(next.run.requestId, 0, AbortSignal.timeout(3_000)));
    expect(after.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });
    await runs.close();
  });

  it('tries the final status write again when it fails too (the database dropped a connection)', async () => {
    const a = newAgent();
    const agent = scriptedAgent({ steps: [{ type: 'message', text: 'lost' }] });
    let finishes = 0;
    const store = await refusingStore(
      (_events, final) => (final ? new Error('Connection terminated unexpectedly') : undefined),
      () => (++finishes === 1 ? new Error('Connection terminated unexpectedly') : undefined),
    );
    const { runs, logger } = await manager({ [a]: agent }, store);
    const { run } = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'go' } });
    const events = await drain(runs.follow(run.requestId, 0, AbortSignal.timeout(3_000)));
    expect(events.at(-1)).toMatchObject({ type: 'run.completed', result: { error: { code: 'STORE_WRITE_FAILED' } } });
    expect(finishes).toBe(2);
    expect(logger.lines.some((l) => l.message === 'could not end the run; trying again')).toBe(true);
  });

  it('because the lease was lost leaves the run to the instance that holds it now (no final event written here)', async () => {
    const a = newAgent();
    const agent = scriptedAgent({ steps: [{ type: 'text.delta', text: 'x' }, { hang: true }] });
    let lose = false;
    const store = await refusingStore(() => (lose ? new RunLeaseLostError('req_x') : undefined));
    const { runs, logger } = await manager({ [a]: agent }, store);
    lose = true;
    const { run } = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'go' } });
    await runs.idle();
    expect(logger.lines.some((e) => e.message === 'run taken over by another instance; stopping it here')).toBe(true);
    expect(await runs.get('u', run.requestId)).toMatchObject({ status: 'running' });
    lose = false;
    await runs.close(0);
  });
});

describe('RunExecutor: a request field the agent does not declare', () => {
  it('ends the run failed UNSUPPORTED_FIELD (refused by execute, before any work) and frees the agent', async () => {
    const a = newAgent();
    const agent = scriptedAgent({ steps: [{ type: 'message', text: 'ok' }], capabilities: { systemPrompt: false } });
    const { runs } = await manager({ [a]: agent }, await testStore());
    const refused = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'x', systemPrompt: 'be brief' } });
    const next = await runs.submit({ userId: 'u', agentId: a, request: { prompt: 'fine' } });
    const events = await drain(runs.follow(refused.run.requestId, 0, AbortSignal.timeout(3_000)));
    expect(events.at(-1)).toMatchObject({
      type: 'run.completed',
      result: { status: 'failed', error: { code: 'UNSUPPORTED_FIELD' } },
    });
    expect(await runs.get('u', refused.run.requestId)).toMatchObject({
      status: 'failed',
      error: { code: 'UNSUPPORTED_FIELD' },
    });
    const after = await drain(runs.follow(next.run.requestId, 0, AbortSignal.timeout(3_000)));
    expect(after.at(-1)).toMatchObject({ type: 'run.completed', result: { status: 'completed' } });
    await runs.close();
  });
});
