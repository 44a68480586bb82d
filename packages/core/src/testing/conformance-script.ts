import type { ConformanceScenario } from './conformance.js';
import { sampleScript, type ScriptStep } from './scripted-agent.js';

/** The steps a `scriptedAgent` plays for each conformance scenario (also used by transports' conformance tests). */
export function conformanceScript(scenario: ConformanceScenario): ScriptStep[] {
  const [started, ...rest] = sampleScript();
  switch (scenario) {
    case 'complete':
      return sampleScript();
    case 'hang':
      return [started!, rest[0]!, { hang: true }];
    case 'permission':
      return [
        started!,
        { type: 'tool.call', callId: 'call_perm', name: 'Bash', input: { command: 'ls' } },
        { type: 'permission.requested', id: 'perm_1', tool: 'Bash', input: { command: 'ls' } },
        { awaitPermission: 'perm_1' },
        ...rest,
      ];
    case 'question':
      return [
        started!,
        {
          type: 'question.requested',
          id: 'q_1',
          questions: [
            {
              question: 'Which colour?',
              header: 'Colour',
              options: [{ label: 'Blue' }, { label: 'Red', description: 'the other one' }],
              multiple: false,
              custom: true,
            },
          ],
        },
        { awaitQuestion: 'q_1' },
        ...rest,
      ];
  }
}
