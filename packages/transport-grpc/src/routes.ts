import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import {
  ForgeError,
  NotFoundError,
  TransportError,
  ValidationError,
  silentLogger,
  systemClock,
  type AgentRun,
  type Clock,
  type CodeAgent,
  type Logger,
  RunExistsError,
} from '@forge/core';
import { capabilitiesToProto, decisionFromProto, requestFromProto } from './convert-request.js';
import { encodeBatch, encodeEvent } from './event-codec.js';
import { TransportCodes, errorInfoFromError, forgeErrorToConnect } from './errors.js';
import {
  AgentService,
  CommandAckSchema,
  CommandErrorSchema,
  PongSchema,
  type ConnectRequest,
  type ExecuteRequest,
} from './gen/forge/agent/v1/agent_pb.js';
import {
  ConnectResponseSchema as WireConnectResponseSchema,
  ExecuteResponseSchema as WireExecuteResponseSchema,
  type ConnectResponse as WireConnectResponse,
} from './gen/forge/agent/wire/v1/wire_pb.js';
import { WireAgentService } from './wire-service.js';
import { HealthState, ServingStatus } from './health.js';
import { Outbox } from './outbox.js';
import { TRANSPORT_GRPC_VERSION } from './version.js';

export interface AgentServiceOptions {
  logger?: Logger;
  clock?: Clock;
  /** Serve grpc.health.v1.Health on the same router. Default true. */
  health?: boolean;
  /** Grace period of a graceful drain when the caller gives none. Default 30 s. */
  defaultGraceMs?: number;
  /** Answer the Shutdown RPC. Default true; put an auth interceptor in front of a public server. */
  allowShutdown?: boolean;
  /** Called after a Shutdown RPC has drained the runs (serveAgent closes its server here). */
  onShutdown?: (request: { graceful: boolean; graceMs: number }) => void;
  /** Most runs live at once; more are refused with the retryable AGENT_BUSY. Default: no limit. */
  maxRuns?: number;
  /** Events waiting in one stream's outbox above which its runs are read no further. Default 1,024. */
  streamHighWaterMark?: number;
  /** Most events per written message. Default 512. */
  maxBatch?: number;
  /** A message stops taking events past this many bytes. Default 1 MiB. */
  maxBatchBytes?: number;
}

export interface DrainOptions {
  /** True: let live runs finish within `graceMs`, then cancel the rest. False: cancel them now. */
  graceful?: boolean;
  graceMs?: number;
}

export interface DrainResult {
  /** Runs that ended on their own during the grace period. */
  finished: number;
  /** Runs that were cancelled because the grace period ran out (or there was none). */
  cancelled: number;
}

/** Mount on a ConnectRouter (`connectNodeAdapter({ routes })`); also controls the served runs. */
export interface AgentServiceRoutes {
  (router: ConnectRouter): void;
  readonly agent: CodeAgent;
  readonly runsInFlight: number;
  readonly draining: boolean;
  readonly health: HealthState;
  /** Refuses new runs, lets live ones finish or cancels them, and ends idle streams. Idempotent. */
  drain(options?: DrainOptions): Promise<DrainResult>;
  /** Resolves once every response stream this router serves has ended. */
  streamsIdle(): Promise<void>;
}

type ControlMessage = WireConnectResponse['message'];
/** Events leave encoded (event-codec.ts): one encoding per event, no message objects. */
type StreamOutbox = Outbox<Uint8Array, ControlMessage>;

interface LiveRun {
  run: AgentRun;
  done: Promise<void>;
}

const SERVICE_NAME = AgentService.typeName;

/**
 * The AgentService (and, by default, the gRPC health service) for one CodeAgent, as routes for a
 * host's own Connect router. `serveAgent` wraps this in an HTTP/2 server.
 */
export function createAgentServiceRoutes(agent: CodeAgent, options: AgentServiceOptions = {}): AgentServiceRoutes {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const defaultGraceMs = options.defaultGraceMs ?? 30_000;
  const health = new HealthState([SERVICE_NAME]);
  const live = new Map<string, LiveRun>();
  /** Ends a stream that has nothing left to do, once the server drains. */
  const idleEnders = new Set<() => void>();
  let openStreams = 0;
  let idleWaiters: Array<() => void> = [];
  let draining = false;
  let drainPromise: Promise<DrainResult> | undefined;

  // Batches stop at 512 events or about 1 MiB, so one large tool output does not make a huge message.
  const newOutbox = (): StreamOutbox =>
    new Outbox(
      options.streamHighWaterMark ?? 1024,
      options.maxBatch ?? 512,
      options.maxBatchBytes ?? 1 << 20,
      (e) => e.byteLength,
    );

  const streamOpened = () => openStreams++;
  const streamClosed = () => {
    openStreams--;
    if (openStreams === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  const shuttingDownError = () =>
    new TransportError(TransportCodes.SHUTTING_DOWN, 'The agent is shutting down and takes no new runs', {
      retryable: true,
    });

  /** Starts a run and pumps its events into the outbox, reading the run only as fast as the stream writes. */
  function startRun(
    input: ReturnType<typeof requestFromProto>,
    runId: string | undefined,
    outbox: StreamOutbox,
    signal?: AbortSignal,
  ): LiveRun {
    if (draining) throw shuttingDownError();
    if (options.maxRuns !== undefined && live.size >= options.maxRuns) {
      throw new TransportError(
        TransportCodes.BUSY,
        `The agent is running its limit of ${options.maxRuns} runs; try again later`,
        {
          retryable: true,
          details: { maxRuns: options.maxRuns },
        },
      );
    }
    if (runId && live.has(runId)) {
      throw new RunExistsError(runId);
    }
    const run = agent.execute(input, { ...(runId ? { runId } : {}), ...(signal ? { signal } : {}) });
    // The client routes events by the id it chose; an agent that ignored it is corrected here.
    const id = runId ?? run.id;
    if (run.id !== id) logger.warn('the agent did not use the run id it was given', { requested: id, used: run.id });
    const entry: LiveRun = { run, done: Promise.resolve() };
    live.set(id, entry);
    logger.debug('run started', { runId: id, provider: run.provider });
    void run.result.then((r) => {
      // Ended runs stop counting (maxRuns, status) at once, even while their last events are still being written.
      if (live.get(id) === entry) live.delete(id);
      logger.info('run ended', {
        runId: id,
        status: r.status,
        durationMs: r.durationMs,
        ...(r.error ? { error: r.error.code } : {}),
      });
    });
    entry.done = (async () => {
      try {
        for await (const event of run) {
          if (!outbox.pushEvent(encodeEvent(event.runId === id ? event : { ...event, runId: id })))
            await outbox.drained();
        }
      } catch (error) {
        logger.error('reading a run failed', { runId: run.id, error: String(error) });
        await run.cancel('the server could not read the run');
      } finally {
        if (live.get(id) === entry) live.delete(id);
      }
    })();
    return entry;
  }

  async function* connect(
    requests: AsyncIterable<ConnectRequest>,
    ctx: HandlerContext,
  ): AsyncGenerator<WireConnectResponse> {
    streamOpened();
    const outbox = newOutbox();
    const mine = new Map<string, LiveRun>();
    let inputDone = false;
    const maybeEnd = () => {
      if ((inputDone || draining) && mine.size === 0) outbox.end();
    };
    idleEnders.add(maybeEnd);
    const cancelMine = (reason: string) => {
      for (const { run } of mine.values()) void run.cancel(reason);
    };
    const onAbort = () => cancelMine('the client went away');
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    const reply = (message: ControlMessage) => outbox.pushControl(message);
    const fail = (commandId: string, runId: string, error: unknown) =>
      reply({
        case: 'error',
        value: toBinary(
          CommandErrorSchema,
          create(CommandErrorSchema, { commandId, runId, error: errorInfoFromError(error) }),
        ),
      });

    const handle = (req: ConnectRequest) => {
      const { commandId, command } = req;
      switch (command.case) {
        case 'execute': {
          const runId = command.value.runId;
          try {
            if (!runId)
              throw new ValidationError('RUN_ID_REQUIRED', 'An execute command needs a run_id chosen by the client');
            const entry = startRun(requestFromProto(command.value.request), runId, outbox);
            mine.set(runId, entry);
            void entry.done.then(() => {
              mine.delete(runId);
              maybeEnd();
            });
          } catch (error) {
            fail(commandId, runId, error);
          }
          return;
        }
        case 'cancel': {
          // Answered by the run's own run.completed; cancelling an ended run is not an error.
          const entry = mine.get(command.value.runId) ?? live.get(command.value.runId);
          void entry?.run.cancel(command.value.reason);
          return;
        }
        case 'permissionReply': {
          const { runId, permissionId, decision, message } = command.value;
          const entry = mine.get(runId) ?? live.get(runId);
          if (!entry)
            return fail(commandId, runId, new NotFoundError('RUN_NOT_FOUND', `No live run ${runId}`, { runId }));
          entry.run.respond(permissionId, decisionFromProto(decision), message).then(
            () => reply({ case: 'ack', value: toBinary(CommandAckSchema, create(CommandAckSchema, { commandId })) }),
            (error: unknown) => fail(commandId, runId, error),
          );
          return;
        }
        case 'questionAnswer': {
          const { runId, questionId, answers } = command.value;
          const entry = mine.get(runId) ?? live.get(runId);
          if (!entry)
            return fail(commandId, runId, new NotFoundError('RUN_NOT_FOUND', `No live run ${runId}`, { runId }));
          entry.run
            .answer(
              questionId,
              answers.map((a) => [...a.values]),
            )
            .then(
              () => reply({ case: 'ack', value: toBinary(CommandAckSchema, create(CommandAckSchema, { commandId })) }),
              (error: unknown) => fail(commandId, runId, error),
            );
          return;
        }
        case 'ping':
          reply({
            case: 'pong',
            value: toBinary(PongSchema, create(PongSchema, { time: command.value.time, serverTime: clock.now() })),
          });
          return;
        default:
          fail(commandId, '', new ValidationError('INVALID_COMMAND', 'The command names no known action'));
      }
    };

    let refused: ConnectError | undefined;
    void (async () => {
      try {
        for await (const req of requests) handle(req);
      } catch (error) {
        // Usually the client went away (ctx.signal has fired or will, which cancels its runs). A
        // message the server refused to read (over readMaxBytes, malformed) ends the stream with
        // that error, its runs cancelled, rather than a quiet OK.
        if (error instanceof ConnectError && error.code !== Code.Canceled && !ctx.signal.aborted) {
          refused = error;
          cancelMine(`the stream was refused: ${error.rawMessage}`);
          outbox.close();
        }
      } finally {
        inputDone = true;
        maybeEnd();
      }
    })();

    try {
      for await (const item of outbox.take()) {
        yield create(WireConnectResponseSchema, {
          message: 'events' in item ? { case: 'events', value: encodeBatch(item.events) } : item.control,
        });
      }
    } finally {
      // Whatever ended the stream, runs started on it must not outlive it.
      outbox.close();
      cancelMine('the stream to the client ended');
      ctx.signal.removeEventListener('abort', onAbort);
      idleEnders.delete(maybeEnd);
      streamClosed();
    }
    if (refused) throw refused;
  }

  async function* execute(req: ExecuteRequest, ctx: HandlerContext) {
    streamOpened();
    const outbox = newOutbox();
    try {
      let entry: LiveRun;
      try {
        entry = startRun(requestFromProto(req.request), req.runId || undefined, outbox, ctx.signal);
      } catch (error) {
        throw forgeErrorToConnect(error);
      }
      void entry.done.then(() => outbox.end());
      for await (const item of outbox.take()) {
        if ('events' in item) yield create(WireExecuteResponseSchema, { events: item.events });
      }
    } finally {
      outbox.close();
      streamClosed();
    }
  }

  function drain(opts: DrainOptions = {}): Promise<DrainResult> {
    if (drainPromise) return drainPromise;
    draining = true;
    health.setAll(ServingStatus.NOT_SERVING);
    for (const end of idleEnders) end();
    const graceful = opts.graceful ?? true;
    const graceMs = graceful ? (opts.graceMs ?? defaultGraceMs) : 0;
    drainPromise = (async () => {
      const runs = [...live.values()];
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (graceMs > 0 && runs.length) {
        await Promise.race([
          Promise.all(runs.map((r) => r.done)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
        ]);
        clearTimeout(timer);
      }
      const remaining = [...live.values()];
      if (remaining.length)
        logger.info('cancelling runs still live after the grace period', { runs: remaining.length, graceMs });
      await Promise.all(
        remaining.map(async (r) => {
          await r.run.cancel('the agent is shutting down');
          await r.done;
        }),
      );
      health.close();
      return { finished: runs.length - remaining.length, cancelled: remaining.length };
    })();
    return drainPromise;
  }

  const routes = ((router: ConnectRouter) => {
    router.service(WireAgentService, {
      connect,
      execute,
      async cancelRun(req) {
        const entry = live.get(req.runId);
        if (!entry) return { cancelled: false };
        await entry.run.cancel(req.reason);
        return { cancelled: true };
      },
      async replyPermission(req) {
        const entry = live.get(req.runId);
        try {
          if (!entry) throw new NotFoundError('RUN_NOT_FOUND', `No live run ${req.runId}`, { runId: req.runId });
          await entry.run.respond(req.permissionId, decisionFromProto(req.decision), req.message);
        } catch (error) {
          throw forgeErrorToConnect(error);
        }
        return {};
      },
      async answerQuestion(req) {
        const entry = live.get(req.runId);
        try {
          if (!entry) throw new NotFoundError('RUN_NOT_FOUND', `No live run ${req.runId}`, { runId: req.runId });
          await entry.run.answer(
            req.questionId,
            req.answers.map((a) => [...a.values]),
          );
        } catch (error) {
          throw forgeErrorToConnect(error);
        }
        return {};
      },
      async getStatus() {
        let capabilities: ReturnType<typeof capabilitiesToProto>;
        try {
          capabilities = capabilitiesToProto(await agent.capabilities());
        } catch (error) {
          throw forgeErrorToConnect(error);
        }
        return {
          provider: agent.provider,
          capabilities,
          runsInFlight: live.size,
          uptimeMs: clock.now() - startedAt,
          version: TRANSPORT_GRPC_VERSION,
          draining,
        };
      },
      async shutdown(req) {
        if (options.allowShutdown === false) {
          throw forgeErrorToConnect(
            new ForgeError('SHUTDOWN_DISABLED', 'This server does not take Shutdown calls', 'unsupported'),
          );
        }
        const graceMs = req.graceMs ?? defaultGraceMs;
        const result = await drain({ graceful: req.graceful, graceMs });
        // After this answer is on its way: the hook may close the server this call runs on.
        setImmediate(() => options.onShutdown?.({ graceful: req.graceful, graceMs }));
        return { runsFinished: result.finished, runsCancelled: result.cancelled };
      },
    });
    if (options.health !== false) health.routes(router);
  }) as AgentServiceRoutes;

  Object.defineProperties(routes, {
    agent: { value: agent },
    runsInFlight: { get: () => live.size },
    draining: { get: () => draining },
    health: { value: health },
  });
  routes.drain = drain;
  routes.streamsIdle = () =>
    openStreams === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));
  return routes;
}
