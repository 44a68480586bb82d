import { createCodeAgent, defaultCapabilities, type ApprovalRule } from '@forge/core';
import { compileApprovals } from '@forge/core/internal';
import { compare } from './harness.js';
import type { BenchModule } from './harness.js';

const RULES = 200;
const REQUESTS = 1_000;

/** 200 rules of the kinds hosts write: tool names, `mcp__…*` prefixes, Bash commands, file paths with `*` inside. */
const rules: ApprovalRule[] = Array.from({ length: RULES }, (_, i): ApprovalRule => {
  switch (i % 4) {
    case 0:
      return { tool: `Tool${i}`, decision: 'allow' };
    case 1:
      return { tool: `mcp__server${i}__*`, decision: 'allow' };
    case 2:
      return { tool: 'Bash', input: { command: `cmd${i} *` }, decision: 'deny' };
    default:
      return { tool: 'Edit', input: { file_path: `*/secret${i}/*.env` }, decision: 'deny' };
  }
});

/** Requests that mostly match late or not at all (the default decides), the costly case. */
const requests = Array.from({ length: REQUESTS }, (_, i) => {
  switch (i % 4) {
    case 0:
      return { tool: 'Bash', input: { command: `cmd${198 - (i % 50) * 4} --flag /srv/app` } };
    case 1:
      return { tool: 'Edit', input: { file_path: `/srv/app/secret${199 - (i % 50) * 4}/prod.env` } };
    case 2:
      return { tool: 'mcp__server197__lookup', input: { q: 'x' } };
    default:
      return { tool: 'Read', input: { file_path: `/srv/app/file${i}.ts` } };
  }
});

/** Rules decide permission requests without the host; ≤ 5 µs a request is the goal of issue 23. */
const bench: BenchModule = {
  title: 'approval rules',
  async run() {
    const decide = compileApprovals({ rules, default: 'ask' });
    const tools = rules.map((r) => new RegExp(`^${r.tool.replace(/\*/g, '.*')}$`));
    let sink = 0;
    const matched = await compare(
      REQUESTS,
      () => {
        for (const r of requests) if (decide(r.tool, r.input) !== 'ask') sink++;
      },
      () => {
        for (const r of requests) for (const re of tools) if (re.test(r.tool)) sink++;
      },
      25,
    );

    // Through a run: each request emitted by an adapter, decided by a rule, answered to the adapter and
    // recorded as permission.resolved — against the same run without approvals (every request to the host).
    const throughRun = (approvals: boolean) => {
      const agent = createCodeAgent({
        provider: 'bench',
        declared: defaultCapabilities({ permissionReplies: true, approvals: true }),
        async run(ctx) {
          ctx.onRespond(async () => {});
          for (let i = 0; i < REQUESTS; i++) {
            const r = requests[i]!;
            ctx.emit({ type: 'permission.requested', id: `p${i}`, tool: r.tool, input: r.input });
          }
          return {};
        },
      });
      return async () => {
        const run = agent.execute({
          prompt: 'bench',
          ...(approvals ? { approvals: { rules, default: 'allow' as const } } : {}),
        });
        for await (const _ of run) sink++;
      };
    };
    const run = await compare(REQUESTS, throughRun(true), throughRun(false), 9);
    if (sink < 0) throw new Error('unreachable');
    const us = (perSecond: number) => 1e6 / perSecond;
    return [
      {
        name: `${REQUESTS.toLocaleString('en')} permission requests matched against ${RULES} rules`,
        unit: 'µs/request',
        lowerIsBetter: true,
        ours: us(matched.ours),
        baseline: us(matched.baseline),
        baselineName: `${RULES} precompiled RegExp tests of the tool name alone`,
        goalMax: 5,
      },
      {
        name: 'the same through a run (rule decides, adapter answered, permission.resolved emitted and read)',
        unit: 'µs/request',
        lowerIsBetter: true,
        ours: us(run.ours),
        baseline: us(run.baseline),
        baselineName: 'the run without approvals (permission.requested to the host)',
      },
    ];
  },
};
export default bench;
