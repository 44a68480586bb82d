/**
 * A push source that can be paused: a PTY, a child's pipe or output socket. A chunk may be reused by the
 * source once the listener returns (an output socket reads into one buffer): the listener copies what it keeps.
 */
export interface PausableSource {
  onData(listener: (chunk: Uint8Array) => void): void;
  onEnd(listener: (error?: Error) => void): void;
  pause(): void;
  resume(): void;
}

/** While output streams, a read gets at least this much… */
const STREAMING_CHUNK = 64 * 1024;
/** …or what came within this long (ms): the most a streaming output's last bytes wait. */
const STREAMING_WAIT_MS = 1;
/** Output that pauses this long (ms) no longer streams. */
const STREAMING_GAP_MS = 10;

/**
 * A readable byte stream (`type: 'bytes'`) over a pausable push source, paused whenever more than
 * `highWaterMark` bytes wait unread: a reader that stops reading stops the producer (the process blocks on
 * its write) instead of growing a buffer.
 *
 * A BYOB reader (`getReader({ mode: 'byob' })`) gets the output copied straight into its own buffer — as much
 * as has arrived, up to the buffer's size — so a consumer that reuses its buffers (the platform's attach
 * frames) allocates nothing per chunk. A default reader gets what arrived while it was busy as one new chunk.
 *
 * Chunk sizes follow the output, not the producer's writes: output that trickles in (a keystroke's echo, a
 * prompt) goes to a waiting reader at once; once 64 KiB have been read without a 10 ms pause (the output
 * streams), a read waits until 64 KiB have come or 1 ms has passed. Without that a reader as fast as the producer
 * got each of its writes (`head` writes 8 KiB) as a chunk, and every chunk costs a frame, a socket write and a
 * wake-up of the client downstream (profiled: 8 KiB frames cost the platform and its client 2–3× the CPU per
 * GiB of 64 KiB ones).
 */
export function pacedReadable(source: PausableSource, highWaterMark = 256 * 1024): ReadableStream<Uint8Array> {
  let paused = false;
  let done = false;
  let error: Error | undefined;
  // What waits unread: bytes [start, end) of `store`, grown as needed (bounded by the pause at highWaterMark).
  let store: Uint8Array | undefined;
  let start = 0;
  let end = 0;
  // A read is waiting: data goes to it as it comes.
  let wanted = false;
  // Bytes handed over since the output last paused (STREAMING_GAP_MS without a read served), and when the last
  // read was: once a burst reaches STREAMING_CHUNK the output is streaming, and reads wait for a worthwhile chunk.
  let burst = 0;
  let lastFill = 0;
  let streaming = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ctl!: ReadableByteStreamController;

  const keep = (chunk: Uint8Array) => {
    const pending = end - start;
    if (!store || end + chunk.byteLength > store.byteLength) {
      if (store && pending + chunk.byteLength <= store.byteLength) {
        store.copyWithin(0, start, end);
      } else {
        const grown = new Uint8Array(Math.max(2 * (pending + chunk.byteLength), STREAMING_CHUNK));
        if (store) grown.set(store.subarray(start, end));
        store = grown;
      }
      start = 0;
      end = pending;
    }
    store.set(chunk, end);
    end += chunk.byteLength;
  };

  /** The waiting read's room: its view's size, or unbounded for a default reader. */
  const room = () => ctl.byobRequest?.view?.byteLength ?? Number.POSITIVE_INFINITY;

  /** Fills the waiting read from `from` (the store, or a chunk just arrived): the bytes it took. */
  const fill = (from: Uint8Array): number => {
    wanted = false;
    clearTimeout(timer);
    timer = undefined;
    const request = ctl.byobRequest;
    const n = Math.min(request?.view?.byteLength ?? Number.POSITIVE_INFINITY, from.byteLength);
    const now = performance.now();
    if (now - lastFill > STREAMING_GAP_MS) burst = 0;
    burst += n;
    lastFill = now;
    streaming = burst >= STREAMING_CHUNK;
    if (request?.view) {
      const view = request.view;
      new Uint8Array(view.buffer, view.byteOffset, n).set(from.subarray(0, n));
      request.respond(n);
      return n;
    }
    // Enqueued chunks are transferred (their memory detached): a copy, never the source's own buffer.
    const copy = new Uint8Array(n);
    copy.set(from);
    ctl.enqueue(copy);
    return n;
  };

  const finish = () => {
    if (error) {
      ctl.error(error);
      return;
    }
    ctl.close();
    // A BYOB read still waiting is answered `done` only once told that nothing came.
    ctl.byobRequest?.respond(0);
  };

  const fromStore = () => {
    start += fill(store!.subarray(start, end));
    if (start === end) start = end = 0;
    flow();
  };

  /**
   * Reads the source while the store has room — and, while the output streams, only while a read waits: what
   * comes meanwhile waits in the source (a socket's kernel buffer), to be read in one go rather than a wake-up
   * per write of the producer.
   */
  const flow = () => {
    const read = !done && end - start < highWaterMark && (wanted || !streaming);
    if (read === !paused) return;
    paused = !read;
    if (paused) source.pause();
    else source.resume();
  };

  /** A read waits and the store holds something: hand it over now, or once more has come (streaming). */
  const serve = () => {
    if (!streaming || done || end - start >= Math.min(STREAMING_CHUNK, room())) {
      fromStore();
      return;
    }
    timer ??= setTimeout(() => {
      timer = undefined;
      if (wanted && end > start) fromStore();
    }, STREAMING_WAIT_MS);
    timer.unref?.();
  };

  return new ReadableStream({
    type: 'bytes',
    start(controller) {
      ctl = controller;
      source.onData((chunk) => {
        if (done || chunk.byteLength === 0) return;
        if (wanted && end === start && !streaming) {
          const rest = chunk.subarray(fill(chunk));
          if (rest.byteLength > 0) keep(rest);
        } else {
          keep(chunk);
          if (wanted) serve();
        }
        flow();
      });
      source.onEnd((e) => {
        if (done) return;
        done = true;
        error = e;
        if (!wanted) return;
        if (end > start) fromStore();
        else finish();
      });
    },
    pull() {
      wanted = true;
      if (end > start) serve();
      else if (done) finish();
      flow();
    },
    cancel() {
      done = true;
      clearTimeout(timer);
      store = undefined;
      start = end = 0;
      if (paused) source.resume();
    },
  });
}
