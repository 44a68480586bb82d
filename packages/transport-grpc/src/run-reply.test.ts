import { create } from '@bufbuild/protobuf';
import type { AgentRun } from '@forge/core';
import { describe, expect, it, vi } from 'vitest';
import { PermissionDecision, StringListSchema } from './gen/forge/agent/v1/agent_pb.js';
import { applyRunReply } from './run-reply.js';

function fakeRun() {
  return {
    respond: vi.fn(async () => {}),
    answer: vi.fn(async () => {}),
    steer: vi.fn(async () => {}),
  };
}

describe('applyRunReply', () => {
  it('rejects RUN_NOT_FOUND when the run is not live', async () => {
    await expect(
      applyRunReply(undefined, { case: 'steer', value: { runId: 'run_1', text: 'hi' } }),
    ).rejects.toMatchObject({
      code: 'RUN_NOT_FOUND',
    });
  });

  it('carries each reply to its call on the run', async () => {
    const run = fakeRun();
    const asRun = run as unknown as AgentRun;
    await applyRunReply(asRun, {
      case: 'permissionReply',
      value: { runId: 'r', permissionId: 'p', decision: PermissionDecision.ALLOW, message: 'ok' },
    });
    await applyRunReply(asRun, {
      case: 'questionAnswer',
      value: { runId: 'r', questionId: 'q', answers: [create(StringListSchema, { values: ['a', 'b'] })] },
    });
    await applyRunReply(asRun, { case: 'steer', value: { runId: 'r', text: 'go on' } });
    expect(run.respond).toHaveBeenCalledWith('p', 'allow', 'ok');
    expect(run.answer).toHaveBeenCalledWith('q', [['a', 'b']]);
    expect(run.steer).toHaveBeenCalledWith('go on');
  });

  it("passes the run's own refusal on", async () => {
    const run = fakeRun();
    run.steer.mockRejectedValue(new Error('cannot steer'));
    await expect(
      applyRunReply(run as unknown as AgentRun, { case: 'steer', value: { runId: 'r', text: 'x' } }),
    ).rejects.toThrow('cannot steer');
  });
});
