import { afterAll, beforeAll, describe } from 'vitest';
import type { CodeAgent } from '@forge/core';
import { describeCodeAgentConformance } from '@forge/core/testing/conformance';
import { conformanceScript, scriptedAgent } from '@forge/core/testing';
import type { DialHome } from './dial-home.js';
import { Rig } from './test-support/rig.js';

// Core's conformance suite against the hub-side CodeAgent of a scripted agent dialled in over
// loopback HTTP/2: every run crosses the real link both ways.
describe('dial-home', () => {
  const rig = new Rig();
  const links = new Map<CodeAgent, DialHome>();
  let n = 0;
  beforeAll(async () => {
    await rig.start();
  });
  afterAll(async () => {
    await rig.close();
  });

  describeCodeAgentConformance('hub-side agent of a dialled-in scriptedAgent', {
    async makeAgent(scenario) {
      const name = `conf-${scenario}-${++n}`;
      const d = rig.dial(name, scriptedAgent({ steps: conformanceScript(scenario) }));
      await d.whenOnline();
      const agent = await rig.registry.get(name);
      links.set(agent, d);
      return agent;
    },
    async cleanup(agent) {
      await links.get(agent)?.stop();
      links.delete(agent);
    },
  });
});
