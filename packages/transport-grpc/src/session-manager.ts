import type * as http2 from 'node:http2';
import { Http2SessionManager } from '@connectrpc/connect-node';

/**
 * Http2SessionManager, but a dead connection cannot crash the process. When a keep-alive PING
 * times out, connect-node 2.1.2 destroys the session with an error after it has already removed
 * its own 'error' listener, and Node throws an unhandled 'error' event. The streams on the
 * session fail with that error anyway (which is how runs learn the link broke), so the session's
 * own copy can be dropped. Covered by keepalive.test.ts.
 */
export class GuardedSessionManager extends Http2SessionManager {
  private readonly guarded = new WeakSet<http2.Http2Session>();

  override async request(...args: Parameters<Http2SessionManager['request']>): Promise<http2.ClientHttp2Stream> {
    const stream = await super.request(...args);
    const session = stream.session;
    if (session && !this.guarded.has(session)) {
      this.guarded.add(session);
      session.on('error', () => {});
    }
    return stream;
  }
}
