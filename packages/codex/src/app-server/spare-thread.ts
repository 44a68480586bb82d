import type { ThreadStartParams } from '../gen/v2/ThreadStartParams.js';
import type { ThreadStartResponse } from '../gen/v2/ThreadStartResponse.js';
import type { AppServerProcess } from './app-server-process.js';
import type { ThreadParams } from './thread-open.js';

/**
 * A new thread started ahead of need on a prewarmed server (`thread/start` was 20–26 % of a prewarmed first turn),
 * for the next new session whose thread settings are exactly these. Taken once: a session never shares it, and
 * taking it starts the next one. Its `thread` resolves undefined when the start failed (the session then starts
 * its own, as without a spare).
 */
export interface SpareThread {
  key: string;
  thread: Promise<string | undefined>;
}

const keyOf = (params: ThreadParams, ephemeral: boolean | undefined) => JSON.stringify([params, ephemeral === true]);

/** Starts a spare thread with `params` on `server` (replacing the record of any earlier one). */
export function startSpare(server: AppServerProcess, params: ThreadParams, ephemeral: boolean | undefined): void {
  if (!server.alive) return;
  const thread = server.rpc
    .request<ThreadStartResponse>('thread/start', {
      ...params,
      ...(ephemeral ? { ephemeral: true } : {}),
    } satisfies ThreadStartParams)
    .then(
      (started) => started.thread.id,
      () => undefined,
    );
  server.spare = { key: keyOf(params, ephemeral), thread };
}

/**
 * The spare thread's id when its settings match `params` (and a next spare is started with them), else undefined
 * and the spare stays for a matching session.
 */
export async function takeSpare(
  server: AppServerProcess,
  params: ThreadParams,
  ephemeral: boolean | undefined,
): Promise<string | undefined> {
  const spare = server.spare;
  if (!spare || spare.key !== keyOf(params, ephemeral)) return undefined;
  server.spare = undefined;
  // The next one once this session's turn/start is on its way: the spare is there to shorten that turn.
  setImmediate(() => {
    if (!server.spare) startSpare(server, params, ephemeral);
  });
  return spare.thread;
}
