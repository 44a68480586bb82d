import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/*
 * Why a real server and not msw: client-node opens exec sockets with the `ws` package (through isomorphic-ws),
 * which msw's WebSocket interception (the global WebSocket class) never sees. So this is a small WebSocket
 * server on 127.0.0.1 speaking the Kubernetes channel protocol: every binary message starts with a channel
 * byte (0 stdin, 1 stdout, 2 stderr, 3 status JSON, 255 close-a-stream in v5). The WebSocket framing is done
 * by hand so that the package needs no extra dependency; it covers what the `ws` client sends (unfragmented,
 * masked frames; close; ping).
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface ExecSession {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly command: string[];
  readonly container: string | null;
  readonly protocol: string;
  readonly headers: IncomingHttpHeaders;
  /** Chunks the client wrote to stdin; ends on a v5 close-stdin signal or when the connection closes. */
  readonly stdin: AsyncIterable<Buffer>;
  /** Everything written to stdin, once it ended. */
  stdinText(): Promise<string>;
  stdout(data: string | Buffer): void;
  stderr(data: string | Buffer): void;
  /** v5: tells the client a stream (1 stdout, 2 stderr) is finished. */
  closeStream(channel: number): void;
  /** Sends the exit status (Success or NonZeroExitCode) on channel 3 and closes, as the kubelet does. */
  exit(code: number): void;
  /** Sends a Failure status without an exit code (e.g. the binary does not exist). */
  fail(message: string): void;
  /** The client closed the connection (or the server did). */
  readonly closed: Promise<{ byClient: boolean }>;
  readonly stdinClosedBySignal: boolean;
  /** Terminal sizes the client sent on the resize channel (4), in order. */
  readonly resizes: Array<{ cols: number; rows: number }>;
}

export interface FakeExecServerOptions {
  /** Subprotocols the server accepts, in its order of preference. Default v5 then v4. */
  protocols?: string[];
  /** HTTP status to refuse the upgrade with (e.g. 404 pod not found, 403). */
  refuse?: number;
  onExec(session: ExecSession): void | Promise<void>;
}

export interface FakeExecServer {
  readonly url: string;
  readonly sessions: ExecSession[];
  kubeConfig(namespace?: string): KubeConfig;
  close(): Promise<void>;
}

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const header = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) {
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

/** Parses complete frames off the front of `buffer`; returns them and what is left. */
function parseFrames(buffer: Buffer): { frames: Array<{ opcode: number; payload: Buffer }>; rest: Buffer } {
  const frames: Array<{ opcode: number; payload: Buffer }> = [];
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    const opcode = buffer[offset]! & 0x0f;
    const masked = (buffer[offset + 1]! & 0x80) !== 0;
    let len = buffer[offset + 1]! & 0x7f;
    let pos = offset + 2;
    if (len === 126) {
      if (buffer.length < pos + 2) break;
      len = buffer.readUInt16BE(pos);
      pos += 2;
    } else if (len === 127) {
      if (buffer.length < pos + 8) break;
      len = Number(buffer.readBigUInt64BE(pos));
      pos += 8;
    }
    const maskLen = masked ? 4 : 0;
    if (buffer.length < pos + maskLen + len) break;
    const mask = masked ? buffer.subarray(pos, pos + 4) : undefined;
    pos += maskLen;
    const payload = Buffer.from(buffer.subarray(pos, pos + len));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    frames.push({ opcode, payload });
    offset = pos + len;
  }
  return { frames, rest: buffer.subarray(offset) };
}

export async function startFakeExecServer(options: FakeExecServerOptions): Promise<FakeExecServer> {
  const supported = options.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
  const sessions: ExecSession[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(400).end('websocket only');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  server.on('upgrade', (req, socket: Socket) => {
    if (options.refuse) {
      const body = JSON.stringify({
        kind: 'Status',
        status: 'Failure',
        code: options.refuse,
        message: 'refused by the fake',
      });
      socket.end(
        `HTTP/1.1 ${options.refuse} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    const protocol = supported.find((p) => offered.includes(p));
    if (!protocol) {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
    );

    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    const waiting: Array<() => void> = [];
    let stdinEnded = false;
    let stdinClosedBySignal = false;
    const resizes: Array<{ cols: number; rows: number }> = [];
    let open = true;
    let resolveClosed!: (v: { byClient: boolean }) => void;
    const closed = new Promise<{ byClient: boolean }>((r) => (resolveClosed = r));
    const wake = () => waiting.splice(0).forEach((w) => w());
    const endStdin = () => {
      stdinEnded = true;
      wake();
    };
    const send = (channel: number, data: string | Buffer) => {
      if (!open) return;
      socket.write(
        frame(0x2, Buffer.concat([Buffer.from([channel]), typeof data === 'string' ? Buffer.from(data) : data])),
      );
    };
    const closeFromServer = () => {
      if (!open) return;
      open = false;
      socket.write(frame(0x8, Buffer.from([0x03, 0xe8])));
      socket.end();
      endStdin();
      resolveClosed({ byClient: false });
    };

    const session: ExecSession = {
      path: url.pathname,
      query: url.searchParams,
      command: url.searchParams.getAll('command'),
      container: url.searchParams.get('container'),
      protocol,
      headers: req.headers,
      stdin: {
        async *[Symbol.asyncIterator]() {
          let i = 0;
          for (;;) {
            if (i < chunks.length) yield chunks[i++]!;
            else if (stdinEnded) return;
            else await new Promise<void>((r) => waiting.push(r));
          }
        },
      },
      async stdinText() {
        while (!stdinEnded) await new Promise<void>((r) => waiting.push(r));
        return Buffer.concat(chunks).toString('utf8');
      },
      stdout: (data) => send(1, data),
      closeStream: (channel) => send(255, Buffer.from([channel])),
      stderr: (data) => send(2, data),
      exit(code) {
        const status =
          code === 0
            ? { metadata: {}, status: 'Success' }
            : {
                metadata: {},
                status: 'Failure',
                message: `command terminated with non-zero exit code: error executing command, exit code ${code}`,
                reason: 'NonZeroExitCode',
                details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
              };
        send(3, JSON.stringify(status));
        closeFromServer();
      },
      fail(message) {
        send(3, JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError' }));
        closeFromServer();
      },
      closed,
      get stdinClosedBySignal() {
        return stdinClosedBySignal;
      },
      resizes,
    };
    sessions.push(session);

    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      const parsed = parseFrames(Buffer.concat([pending, data]));
      pending = parsed.rest;
      for (const { opcode, payload } of parsed.frames) {
        if (opcode === 0x8) {
          // The client closes: answer the close and hang up, as the API server does.
          if (open) {
            open = false;
            socket.write(frame(0x8, payload.subarray(0, 2)));
            socket.end();
            endStdin();
            resolveClosed({ byClient: true });
          }
        } else if (opcode === 0x9) socket.write(frame(0xa, payload));
        else if (opcode === 0x2 && payload.length > 0) {
          if (payload[0] === 0) {
            chunks.push(payload.subarray(1));
            wake();
          } else if (payload[0] === 4) {
            const size = JSON.parse(payload.subarray(1).toString('utf8')) as { Width: number; Height: number };
            resizes.push({ cols: size.Width, rows: size.Height });
            wake();
          } else if (payload[0] === 255 && payload[1] === 0) {
            stdinClosedBySignal = true;
            endStdin();
          }
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (open) {
        open = false;
        endStdin();
        resolveClosed({ byClient: true });
      }
    });
    void Promise.resolve(options.onExec(session)).catch(() => closeFromServer());
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    sessions,
    kubeConfig(namespace = 'agents') {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'tester', token: 'exec-token' }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace }],
        currentContext: 'fake',
      });
      return kc;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
