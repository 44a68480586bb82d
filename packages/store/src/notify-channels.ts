/**
 * NOTIFY channels (delivered at commit, to every listening connection): a batch journaled
 * (payload: request id), a run queued or an agent freed (payload: the instance that did it, so it
 * can skip its own), cancellation asked of a run (payload: the instance executing it). They only shorten polls; the rows stay the truth.
 */
export const JOURNAL_CHANNEL = 'forge_journal';
export const QUEUE_CHANNEL = 'forge_queue';
export const CANCEL_CHANNEL = 'forge_cancel';
