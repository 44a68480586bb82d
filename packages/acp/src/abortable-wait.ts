// Waits a run makes on the agent that a cancel must be able to cut short.

/** Resolves with the value, or undefined once the signal aborts (the work goes on and is dropped). */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolvePromise, reject) => {
    const onAbort = () => resolvePromise(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) resolvePromise(undefined);
        else reject(e);
      },
    );
  });
}

/** The promise's value, or undefined when it has not settled `graceMs` after the signal aborted. */
export function untilAbortedPlus<T>(
  p: Promise<T>,
  signal: AbortSignal,
  graceMs: number,
): Promise<{ value: T } | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const late = new Promise<undefined>((resolveLate) => {
    onAbort = () => {
      timer = setTimeout(() => resolveLate(undefined), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  p.catch(() => undefined);
  return Promise.race([p.then((value) => ({ value })), late]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  });
}

/** Waits until `last()` is at least `ms` in the past (or the signal aborts). */
export async function quietFor(last: () => number, ms: number, signal: AbortSignal): Promise<void> {
  for (;;) {
    const wait = last() + ms - Date.now();
    if (wait <= 0 || signal.aborted) return;
    await new Promise((r) => setTimeout(r, wait));
  }
}
