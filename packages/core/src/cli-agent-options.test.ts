import { describe, expect, it } from 'vitest';
import { cliAgentOptions, type CliAgentOptions } from './cli-agent-options.js';
import { fakeProcessRunner } from './testing/fake-process-runner.js';

interface OwnOptions extends CliAgentOptions {
  model?: string;
}

describe('cliAgentOptions', () => {
  it("applies the shared defaults and the adapter's own, and leaves the rest to the adapter", () => {
    const options: OwnOptions = { model: 'm', stopGraceMs: 5, env: { A: '1' } };
    const { cli, rest } = cliAgentOptions(options, { bin: 'tool', passEnv: ['TOOL_*'], sigintGraceMs: 3_000 });
    expect(cli).toMatchObject({
      bin: 'tool',
      passEnv: ['TOOL_*'],
      env: { A: '1' },
      grace: { sigintGraceMs: 3_000, sigtermGraceMs: 2_000 },
      exitGraceMs: 5_000,
      stderrTailBytes: 4096,
      versionTimeoutMs: 10_000,
      maxLineBytes: undefined,
    });
    expect(typeof cli.runner.spawn).toBe('function');
    expect(rest).toEqual({ model: 'm', stopGraceMs: 5 });
  });

  it('takes what the user gave over every default', () => {
    const runner = fakeProcessRunner({});
    const { cli } = cliAgentOptions(
      { runner, bin: '/x/tool', passEnv: [], sigintGraceMs: 1, sigtermGraceMs: 2, exitGraceMs: 3, maxLineBytes: 4 },
      { bin: 'tool', passEnv: ['TOOL_*'] },
    );
    expect(cli).toMatchObject({
      runner,
      bin: '/x/tool',
      passEnv: [],
      grace: { sigintGraceMs: 1, sigtermGraceMs: 2 },
      exitGraceMs: 3,
      maxLineBytes: 4,
    });
  });

  it('fails at once on a line cap that is not a positive integer', () => {
    expect(() => cliAgentOptions({ maxLineBytes: 0 }, { bin: 'tool', passEnv: [] })).toThrow(RangeError);
  });
});
