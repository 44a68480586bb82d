import type { ServiceImpl } from '@connectrpc/connect';
import { NotFoundError } from '@forge/core';
import { decisionFromProto } from './convert-request.js';
import { forgeErrorToConnect } from './errors.js';
import type { ServiceState } from './service-state.js';
import type { WireAgentService } from './wire-service.js';

type Handlers = Pick<ServiceImpl<WireAgentService>, 'cancelRun' | 'replyPermission' | 'answerQuestion' | 'steerRun'>;

/** The unary RPCs that act on one live run: cancel it, answer its permission request or its question, steer it. */
export function runCommandHandlers(state: ServiceState): Handlers {
  const { live } = state;
  return {
    async cancelRun(req) {
      const entry = live.get(req.runId);
      if (!entry) return { cancelled: false };
      await entry.run.cancel(req.reason);
      return { cancelled: true };
    },
    async replyPermission(req) {
      const entry = live.get(req.runId);
      try {
        if (!entry) throw new NotFoundError('RUN_NOT_FOUND', `No live run ${req.runId}`, { runId: req.runId });
        await entry.run.respond(req.permissionId, decisionFromProto(req.decision), req.message);
      } catch (error) {
        throw forgeErrorToConnect(error);
      }
      return {};
    },
    async answerQuestion(req) {
      const entry = live.get(req.runId);
      try {
        if (!entry) throw new NotFoundError('RUN_NOT_FOUND', `No live run ${req.runId}`, { runId: req.runId });
        await entry.run.answer(
          req.questionId,
          req.answers.map((a) => [...a.values]),
        );
      } catch (error) {
        throw forgeErrorToConnect(error);
      }
      return {};
    },
    async steerRun(req) {
      const entry = live.get(req.runId);
      try {
        if (!entry) throw new NotFoundError('RUN_NOT_FOUND', `No live run ${req.runId}`, { runId: req.runId });
        await entry.run.steer(req.text);
      } catch (error) {
        throw forgeErrorToConnect(error);
      }
      return {};
    },
  };
}
