import type { ServiceImpl } from '@connectrpc/connect';
import { forgeErrorToConnect } from './errors.js';
import { applyRunReply, type RunReply } from './run-reply.js';
import type { ServiceState } from './service-state.js';
import type { WireAgentService } from './wire-service.js';

type Handlers = Pick<ServiceImpl<WireAgentService>, 'cancelRun' | 'replyPermission' | 'answerQuestion' | 'steerRun'>;

/** The unary RPCs that act on one live run: cancel it, answer its permission request or its question, steer it. */
export function runCommandHandlers(state: ServiceState): Handlers {
  const { live } = state;
  const reply = async (r: RunReply) => {
    try {
      await applyRunReply(live.get(r.value.runId)?.run, r);
    } catch (error) {
      throw forgeErrorToConnect(error);
    }
    return {};
  };
  return {
    async cancelRun(req) {
      const entry = live.get(req.runId);
      if (!entry) return { cancelled: false };
      await entry.run.cancel(req.reason);
      return { cancelled: true };
    },
    replyPermission: (req) => reply({ case: 'permissionReply', value: req }),
    answerQuestion: (req) => reply({ case: 'questionAnswer', value: req }),
    steerRun: (req) => reply({ case: 'steer', value: req }),
  };
}
