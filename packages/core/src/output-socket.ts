import { mkdtemp, rm } from 'node:fs/promises';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PausableSource } from './paced-readable.js';

/** A child's output channel: `childEnd` goes in its `stdio`, `source` is read here. */
export interface OutputSocket {
  /** Hand to `spawn`'s `stdio`, then `destroy()` this side's copy once spawned. */
  readonly childEnd: Socket;
  /** What the child writes, each read into one reused buffer: a chunk is valid until the listener returns. */
  readonly source: PausableSource;
  /** Ends reading (a reader that went away): the child's writes fail from then on. */
  destroy(): void;
}

/** Unix socket paths are limited to ~104–108 bytes; a longer TMPDIR gets no output socket. */
const MAX_PATH = 100;

/**
 * A connected pair of Unix stream sockets for a child's stdout or stderr, read with net's `onread` into one
 * buffer of `readBytes`: a child's `'pipe'` stdio allocates a new 64 KiB buffer per read, external memory to V8
 * that set off a full garbage collection every ~100–200 ms at a few hundred MB/s (the attach bench's platform
 * spent a third of its busy samples in the collector). The child sees the same kind of descriptor as with
 * `'pipe'` (libuv's stdio pipes are Unix stream socket pairs too).
 *
 * The listening socket lives in a fresh 0700 directory for the moment it takes to connect: no other account
 * can connect to it (an abstract socket could be raced by any local process, which would then be handed the
 * child's output). Undefined where this cannot be had (Windows, an over-long TMPDIR): the caller uses `'pipe'`.
 * `tempDir`: where that directory is made (the OS's temporary directory).
 */
export async function openOutputSocket(readBytes: number, tempDir = tmpdir()): Promise<OutputSocket | undefined> {
  if (process.platform === 'win32') return undefined;
  let dir: string | undefined;
  let server: Server | undefined;
  try {
    dir = await mkdtemp(join(tempDir, 'forge-out-'));
    const path = join(dir, 's');
    if (Buffer.byteLength(path) > MAX_PATH) return undefined;
    // Paused: the child's end is only ever handed on, never read here.
    server = createServer({ pauseOnConnect: true });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(path, resolve);
    });
    const accepted = new Promise<Socket>((resolve) => listening.once('connection', resolve));
    const buffer = Buffer.allocUnsafe(readBytes);
    let onData: ((chunk: Uint8Array) => void) | undefined;
    const reader = connect({
      path,
      onread: {
        buffer,
        callback: (n: number) => {
          onData?.(buffer.subarray(0, n));
          return true;
        },
      },
    });
    await new Promise<void>((resolve, reject) => {
      reader.once('connect', resolve);
      reader.once('error', reject);
    });
    const childEnd = await accepted;
    return {
      childEnd,
      source: {
        onData: (l) => (onData = l),
        onEnd: (l) => {
          reader.once('end', () => l());
          reader.once('error', (e: Error) => l(e));
        },
        pause: () => reader.pause(),
        resume: () => reader.resume(),
      },
      destroy: () => reader.destroy(),
    };
  } catch {
    // No socket could be had here (a read-only TMPDIR…): the caller's pipes work, only slower.
    return undefined;
  } finally {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
