import { describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { opencode } from './index.js';
import { FakeOpencode, textTurn } from './test-support/fake-opencode.js';

const msw = setupServer();
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
afterAll(() => msw.close());

describeCodeAgentConformance('opencode (msw)', {
  makeAgent(scenario) {
    const fake = new FakeOpencode({
      onPrompt: ({ sessionId, server }) => {
        const turn = textTurn(sessionId, `answer for ${sessionId}`);
        // `hang`: busy and a first delta, then nothing until the run is stopped.
        server.send(...(scenario === 'complete' ? turn : turn.slice(0, 4)));
      },
    });
    msw.use(...fake.handlers());
    return opencode({ baseUrl: fake.baseUrl });
  },
});
