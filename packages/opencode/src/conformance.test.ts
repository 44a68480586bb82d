import { describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { opencode } from './index.js';
import { FakeOpencode, questionAsked, textTurn } from './test-support/fake-opencode.js';

const msw = setupServer();
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
afterAll(() => msw.close());

describeCodeAgentConformance('opencode (msw)', {
  makeAgent(scenario) {
    const fake = new FakeOpencode({
      onPrompt: async ({ sessionId, server }) => {
        const turn = textTurn(sessionId, `answer for ${sessionId}`);
        if (scenario === 'permission') {
          // Busy, then the server asks and waits for the reply before the turn goes on.
          const id = `per_${sessionId}`;
          server.send(turn[0]!, {
            type: 'permission.asked',
            properties: { id, sessionID: sessionId, permission: 'bash', patterns: ['ls'], metadata: {}, always: [] },
          });
          await server.waitForCall((c) => c.path === `/permission/${id}/reply`);
          server.send(...turn.slice(1));
          return;
        }
        if (scenario === 'question') {
          const id = `que_${sessionId}`;
          server.send(turn[0]!, questionAsked(sessionId, id));
          await server.waitForCall((c) => c.path === `/question/${id}/reply`);
          server.send(...turn.slice(1));
          return;
        }
        // `hang`: busy and a first delta, then nothing until stopped.
        server.send(...(scenario === 'complete' ? turn : turn.slice(0, 4)));
      },
    });
    msw.use(...fake.handlers());
    return opencode({ baseUrl: fake.baseUrl });
  },
});
