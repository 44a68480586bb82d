import * as http2 from 'node:http2';

export interface GrpcAnswer {
  status: number | undefined;
  message: string;
}

/**
 * Opens a gRPC call whose first message announces `declaredBytes` in its 5-byte envelope header,
 * then sends only a few bytes and waits. A server with a read limit refuses from the header alone
 * (RESOURCE_EXHAUSTED, 8); one without would wait for, and buffer, the whole message.
 */
export function oversizedGrpcCall(
  baseUrl: string,
  path: string,
  declaredBytes: number,
  headers: Record<string, string> = {},
): Promise<GrpcAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      ...headers,
    });
    let status: number | undefined;
    let message = '';
    const finish = () => {
      stream.close();
      session.close();
      resolve({ status, message });
    };
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
      if (h['grpc-status'] !== undefined) {
        status = Number(h['grpc-status']);
        // The server has answered; our half of the stream stays open (the body never comes).
        finish();
      }
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', () => {});
    stream.on('error', () => {});
    stream.on('close', finish);
    const header = Buffer.alloc(5);
    header.writeUInt8(0, 0);
    header.writeUInt32BE(declaredBytes, 1);
    // The body never comes: only a refusal from the header alone ends this call.
    stream.write(Buffer.concat([header, Buffer.alloc(16)]));
  });
}
