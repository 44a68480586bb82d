import { describe, expect, it } from 'vitest';
import { defaultCapabilities } from './agent.js';
import { createCodeAgent } from './create-code-agent.js';
import { UnsupportedError, UnsupportedFieldError } from './errors.js';
import { validateRequest } from './request.js';
import { featuresUsed, unsupportedFields } from './request-features.js';

const declaration = (overrides = {}, probed: string[] = []) => ({
  capabilities: defaultCapabilities(overrides),
  probed: probed as never[],
});

describe('the declaration and the refusal', () => {
  it('names the request fields as the request spells them', () => {
    const request = validateRequest({
      prompt: 'x',
      systemPrompt: 's',
      allowedTools: [],
      disallowedTools: [],
      attachments: [{ kind: 'image', data: 'aGk=' }],
      effort: 'low',
      questions: {},
    });
    expect(featuresUsed(request).map((f) => f.field)).toEqual([
      'attachments (image)',
      'systemPrompt',
      'allowedTools',
      'effort',
    ]);
  });

  it('leaves probed capabilities to the run, and names each field once', () => {
    const request = validateRequest({ prompt: 'x', allowedTools: ['a'], disallowedTools: ['b'], maxTurns: 2 });
    expect(unsupportedFields(request, declaration({}, ['maxTurns']))).toEqual(['allowedTools', 'disallowedTools']);
    expect(unsupportedFields(request, declaration({ toolFilter: true, maxTurns: true }))).toEqual([]);
  });

  it('counts emulated structured output as support', () => {
    const request = validateRequest({ prompt: 'x', outputSchema: { type: 'object' } });
    expect(unsupportedFields(request, declaration({ structuredOutput: 'emulated' }))).toEqual([]);
    expect(unsupportedFields(request, declaration())).toEqual(['outputSchema']);
  });

  it('makes execute throw UNSUPPORTED_FIELD before the run function is called', async () => {
    let calls = 0;
    const agent = createCodeAgent({
      provider: 'unit',
      declared: defaultCapabilities({ mcpServers: true }),
      run: async () => {
        calls++;
        return {};
      },
    });
    let thrown: unknown;
    try {
      agent.execute({ prompt: 'x', budget: { maxTurns: 3 }, fork: true, sessionId: 's' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnsupportedFieldError);
    expect(thrown).toBeInstanceOf(UnsupportedError);
    expect(thrown).toMatchObject({ code: 'UNSUPPORTED_FIELD', fields: ['budget', 'fork'], category: 'unsupported' });
    await agent.execute({ prompt: 'x', mcpServers: [{ name: 'm', command: 'mcp' }] }).result;
    expect(calls).toBe(1);
    expect(agent.declared?.capabilities.mcpServers).toBe(true);
    expect(await agent.capabilities()).toMatchObject({ mcpServers: true, budget: false });
  });
});
