import type { HandlerContext } from '@connectrpc/connect';
import { AgentSession } from './agent-session.js';
import { Code, ConnectError, refuse } from './connect-errors.js';
import { DialHomeCodes } from './errors.js';
import type { AttachResponse } from './gen/forge/dialhome/v1/dialhome_pb.js';
import type { AttachRequest as WireAttachRequest } from './gen/forge/dialhome/wire/v1/wire_pb.js';
import type { hubSessions } from './hub-sessions.js';
import type { HubState } from './hub-state.js';
import { subjects } from './subject.js';
import { fromWire, type Incoming } from './wire.js';

/**
 * The Attach RPC: authenticates the agent, waits for its Hello, opens its session, then routes what
 * it sends into the session (re-checking the credential at the first message once `credentialCheckMs` has passed since the last check) and what the session
 * sends back out, until either side ends.
 */
export function attachHandler(state: HubState, sessions: ReturnType<typeof hubSessions>) {
  const { records, clock, logger, subscriptions, heartbeatMs, missed, callTimeoutMs, credentialCheckMs } = state;
  const decode = (message: WireAttachRequest): Incoming => {
    try {
      return fromWire(message);
    } catch (error) {
      throw refuse(
        Code.InvalidArgument,
        DialHomeCodes.PROTOCOL,
        `Protocol error: an unreadable ${message.body.case ?? 'message'} (${(error as Error).message})`,
      );
    }
  };

  return async function* attach(
    requests: AsyncIterable<WireAttachRequest>,
    ctx: HandlerContext,
  ): AsyncGenerator<AttachResponse> {
    if (state.closed) throw new ConnectError('The platform is shutting down', Code.Unavailable);
    const record = await records.authenticate(ctx.requestHeader.get('authorization'));
    const agentId = record.agentId;
    const input = requests[Symbol.asyncIterator]();
    // The first message must be a Hello, and soon.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const first = await Promise.race([
      input.next(),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), heartbeatMs * missed))),
    ]).finally(() => clearTimeout(timer));
    if (first === 'timeout') throw new ConnectError('No Hello within the heartbeat window', Code.DeadlineExceeded);
    if (first.done) return;
    const opening = decode(first.value);
    if (opening.body.case !== 'hello') {
      throw refuse(
        Code.FailedPrecondition,
        DialHomeCodes.PROTOCOL,
        'The first message of an Attach stream must be a Hello',
      );
    }
    const hello = opening.body.value;
    const session = new AgentSession({ agentId, name: hello.name, clock, logger, subscriptions, callTimeoutMs });
    await sessions.open(record, session, hello);
    session.send(subjects.welcome(agentId), {
      case: 'welcome',
      value: {
        $typeName: 'forge.dialhome.v1.Welcome',
        agentId,
        heartbeatMs,
        missedHeartbeats: missed,
        serverTime: clock.now(),
      },
    });

    const onAbort = () => session.end({ reason: 'broken', message: 'the stream to the agent broke' });
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    // authenticate() has just checked the credential; a check per message was one store query per event
    // or terminal chunk (a database round trip with the platform's store), so it is re-checked once the
    // bound has passed, before the message that finds it so is handled.
    let checkedAt = clock.now();
    void (async () => {
      try {
        for (;;) {
          const next = await input.next();
          if (next.done) break;
          if (session.ended) return;
          const now = clock.now();
          if (now - checkedAt >= credentialCheckMs) {
            await records.authorize(agentId, record.credentialHash);
            checkedAt = now;
          }
          const complaint = session.handle(decode(next.value));
          if (complaint) throw refuse(Code.InvalidArgument, DialHomeCodes.PROTOCOL, `Protocol error: ${complaint}`);
        }
        session.end({ reason: 'disconnected', message: 'the agent disconnected' });
      } catch (error) {
        const ce = error instanceof ConnectError ? error : undefined;
        const revoked = ce?.code === Code.PermissionDenied || ce?.code === Code.Unauthenticated;
        const protocol = ce?.code === Code.InvalidArgument;
        session.end({
          reason: revoked ? 'revoked' : protocol ? 'protocol' : 'broken',
          message: ce ? ce.rawMessage : `the stream to the agent broke: ${String(error)}`,
          ...(revoked || protocol ? { error: ce } : {}),
        });
      }
    })();

    try {
      for await (const message of session.outbound) yield message;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      session.end({ reason: 'broken', message: 'the stream to the agent ended' });
    }
    const end = session.ended;
    if (end?.error) throw end.error;
  };
}
