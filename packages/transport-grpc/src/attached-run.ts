import type { AgentRequest } from '@forge/core';
import type { LocalEnd, RelayedRunOptions } from '@forge/core/internal';
import type { AttachOptions } from './client.js';

/**
 * Where a run taken over from another host starts here (grpcAgent's and dial-home's `attach`): after the last
 * event this host has, with the permission requests and questions up to it still waiting.
 */
export function attachedRunStart(options: AttachOptions): Pick<RelayedRunOptions, 'afterSeq' | 'pending' | 'signal'> {
  return {
    afterSeq: options.afterSeq,
    ...(options.pending ? { pending: options.pending } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

/**
 * The request whose sessions a taken-over run's session calls may reach here. Without it the run may only create
 * sessions: an id the agent names is not a permission.
 */
export function attachedRunGrants(options: AttachOptions): Pick<AgentRequest, 'sessionId' | 'fork'> {
  return {
    ...(options.request?.sessionId !== undefined ? { sessionId: options.request.sessionId } : {}),
    ...(options.request?.fork !== undefined ? { fork: options.request.fork } : {}),
  };
}

/** How a run ends on the host that let it go (`detach`): not the run's end, which comes where it goes on. */
export function detachedRunEnd(takenBy: string, goesOnAt: string): LocalEnd {
  return {
    status: 'cancelled',
    code: 'RUN_DETACHED',
    message: `The run was handed over to ${takenBy}; it goes on at ${goesOnAt}`,
  };
}
