import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { CoreErrorCode } from './error-codes.js';
import { ValidationError } from './errors.js';
import type { AgentRequest } from './request.js';
import { collectRun, runProblems } from './testing/collect.js';
import { scriptedAgent, type ScriptStep } from './testing/scripted-agent.js';

const REVIEW = {
  type: 'object',
  properties: {
    verdict: { type: 'string', enum: ['approve', 'reject'] },
    comments: { type: 'array', items: { type: 'string' } },
  },
  required: ['verdict', 'comments'],
  additionalProperties: false,
} as const;

const isRepair = (r: AgentRequest) => r.prompt.startsWith('Your answer did not match');
const session: ScriptStep = { type: 'session.started', sessionId: 'ses_1' };
const say = (text: string): ScriptStep[] => [session, { type: 'message', text }];

/** An emulating agent that answers each turn with the next text, recording the requests it was given. */
function emulating(answers: string[]) {
  const seen: AgentRequest[] = [];
  const agent = scriptedAgent({
    capabilities: { structuredOutput: 'emulated' },
    steps: (request) => {
      seen.push(request);
      return say(answers[seen.length - 1] ?? 'nothing more');
    },
  });
  return { agent, seen };
}

describe('structured output (emulated): instruction, parse, validate, repair', () => {
  it('asks for JSON alone and parses the final message into result.output', async () => {
    const { agent, seen } = emulating(['```json\n{"verdict":"approve","comments":[]}\n```']);
    const { events, result } = await collectRun(agent.execute({ prompt: 'Review it', outputSchema: REVIEW }));
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ verdict: 'approve', comments: [] });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.prompt).toMatch(/^Review it\n\nAnswer with only a JSON value that matches this JSON Schema/);
    expect(seen[0]!.prompt).toContain('"enum":["approve","reject"]');
  });

  it('repairs a mismatch in the same session, with both turns in one run and seq kept', async () => {
    const { agent, seen } = emulating(['{"verdict":"maybe","comments":[]}', '{"verdict":"reject","comments":["x"]}']);
    const { events, result } = await collectRun(
      agent.execute({ prompt: 'Review it', outputSchema: REVIEW, attachments: [{ kind: 'file', path: '/a' }] }),
    );
    expect(runProblems(events)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', output: { verdict: 'reject', comments: ['x'] }, turns: 2 });
    expect(seen).toHaveLength(2);
    expect(isRepair(seen[1]!)).toBe(true);
    expect(seen[1]!.prompt).toContain('/verdict: must be equal to one of the allowed values');
    expect(seen[1]!.sessionId).toBe('ses_1');
    expect(seen[1]!.attachments).toBeUndefined();
    expect(events.filter((e) => e.type === 'session.started')).toHaveLength(2);
    expect(events.some((e) => e.type === 'log' && e.text.includes('asking for a repair'))).toBe(true);
    expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
  });

  it('fails OUTPUT_SCHEMA_MISMATCH with the validator errors when the repair is still wrong', async () => {
    const { agent, seen } = emulating(['not json at all', '{"verdict":"approve"}']);
    const { events, result } = await collectRun(agent.execute({ prompt: 'Review it', outputSchema: REVIEW }));
    expect(runProblems(events)).toEqual([]);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.prompt).toContain('the answer is not JSON');
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(CoreErrorCode.OUTPUT_SCHEMA_MISMATCH);
    expect(result.error?.message).toContain("must have required property 'comments'");
    expect(result.output).toBeUndefined();
    expect(result.sessionId).toBe('ses_1');
    const error = events.find((e) => e.type === 'error');
    expect(error).toMatchObject({ code: 'OUTPUT_SCHEMA_MISMATCH', details: { errors: [expect.any(String)] } });
  });

  it('takes outputRepairs: 0 (no repair) and 2 (two repairs)', async () => {
    const none = emulating(['[]']);
    const r0 = await none.agent.execute({ prompt: 'p', outputSchema: REVIEW, outputRepairs: 0 }).result;
    expect(r0.error?.code).toBe('OUTPUT_SCHEMA_MISMATCH');
    expect(none.seen).toHaveLength(1);
    const two = emulating(['[]', '{}', '{"verdict":"approve","comments":[]}']);
    const r2 = await two.agent.execute({ prompt: 'p', outputSchema: REVIEW, outputRepairs: 2 }).result;
    expect(r2.status).toBe('completed');
    expect(two.seen).toHaveLength(3);
  });

  it('does not repair a run that failed or was cancelled', async () => {
    const seen: AgentRequest[] = [];
    const agent = scriptedAgent({
      capabilities: { structuredOutput: 'emulated' },
      steps: (r) => (seen.push(r), say('nope')),
      outcome: { status: 'failed', error: { code: 'BOOM', message: 'boom' } },
    });
    const result = await agent.execute({ prompt: 'p', outputSchema: REVIEW }).result;
    expect(result.error?.code).toBe('BOOM');
    expect(seen).toHaveLength(1);

    const hanging = scriptedAgent({ capabilities: { structuredOutput: 'emulated' }, steps: [session, { hang: true }] });
    const run = hanging.execute({ prompt: 'p', outputSchema: REVIEW });
    expect((await run.cancel()).status).toBe('cancelled');
  });
});

describe('structured output (native)', () => {
  it("checks the program's own answer in outcome.output, and repairs it", async () => {
    const seen: AgentRequest[] = [];
    const agent = scriptedAgent({
      capabilities: { structuredOutput: 'native' },
      steps: (r) => (seen.push(r), say('done')),
      outcome: (r) => ({ output: isRepair(r) ? { verdict: 'approve', comments: [] } : { verdict: 1 } }),
    });
    const result = await agent.execute({ prompt: 'Review it', outputSchema: REVIEW }).result;
    expect(result).toMatchObject({ status: 'completed', output: { verdict: 'approve', comments: [] } });
    expect(seen[0]!.prompt).toBe('Review it');
    expect(seen[1]!.outputSchema).toEqual(REVIEW);
    expect(seen[1]!.sessionId).toBe('ses_1');
  });

  it('reads the final text when the program gave no structured answer', async () => {
    const agent = scriptedAgent({
      capabilities: { structuredOutput: 'native' },
      steps: say('{"verdict":"reject","comments":[]}'),
    });
    expect((await agent.execute({ prompt: 'p', outputSchema: REVIEW }).result).output).toEqual({
      verdict: 'reject',
      comments: [],
    });
  });
});

describe('structured output with a zod schema', () => {
  it('validates with the zod schema itself and types result.output', async () => {
    const Review = z.object({ verdict: z.enum(['approve', 'reject']), score: z.coerce.number() });
    const agent = scriptedAgent({
      capabilities: { structuredOutput: 'emulated' },
      steps: say('{"verdict":"approve","score":"7"}'),
    });
    const run = agent.execute({ prompt: 'p', outputSchema: Review });
    const result = await run.result;
    expectTypeOf(result.output).toEqualTypeOf<{ verdict: 'approve' | 'reject'; score: number } | undefined>();
    // The zod schema's own output (coerced), not the raw JSON.
    expect(result.output).toEqual({ verdict: 'approve', score: 7 });
  });
});

describe('the schema itself', () => {
  it('refuses a schema the validator cannot take before any work', () => {
    const agent = scriptedAgent({ capabilities: { structuredOutput: 'emulated' }, steps: say('{}') });
    expect(() => agent.execute({ prompt: 'p', outputSchema: { type: 'wrong' } })).toThrow(ValidationError);
    try {
      agent.execute({ prompt: 'p', outputSchema: { type: 'wrong' } });
    } catch (error) {
      expect((error as ValidationError).code).toBe('INVALID_OUTPUT_SCHEMA');
    }
  });

  it('takes draft-07 schemas and #/definitions references', async () => {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { x: { $ref: '#/definitions/X' } },
      required: ['x'],
      definitions: { X: { type: 'boolean' } },
    };
    const agent = scriptedAgent({ capabilities: { structuredOutput: 'emulated' }, steps: say('{"x":true}') });
    expect((await agent.execute({ prompt: 'p', outputSchema: schema }).result).output).toEqual({ x: true });
    // The same $id twice on one agent: each schema leaves Ajv's cache once compiled.
    const withId = { $id: 'https://example.com/s', type: 'object' };
    await agent.execute({ prompt: 'p', outputSchema: withId }).result;
    await agent.execute({ prompt: 'p', outputSchema: { ...withId, required: ['y'] } }).result;
  });
});
