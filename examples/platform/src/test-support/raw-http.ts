import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/**
 * One request with its path sent byte for byte: fetch (like `new URL`) resolves `..`, `.` and `\` before sending,
 * which would hide exactly what a test of the server's own routing needs to send.
 */
export function rawHttp(
  baseUrl: string,
  method: string,
  path: string,
  options: {
    key?: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    /** Stop reading after this long and answer with what came (an event stream that does not end). */
    readMs?: number;
  } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port: Number(port),
        method,
        path,
        headers: {
          ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
          // Node frames a GET, HEAD or DELETE body only with a Content-Length; without it the body would be read
          // as the next request on the connection.
          ...(options.body !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(options.body)) }
            : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        const finish = () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        };
        const timer =
          options.readMs === undefined
            ? undefined
            : setTimeout(() => {
                res.destroy();
                finish();
              }, options.readMs);
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => finish());
        res.on('end', finish);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
