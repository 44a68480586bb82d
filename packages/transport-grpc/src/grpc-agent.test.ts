import * as http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { Code, ConnectError, createClient, createRouterTransport } from '@connectrpc/connect';
import { Http2SessionManager, connectNodeAdapter, createGrpcTransport } from '@connectrpc/connect-node';
import {
  ForgeError,
  ProviderError,
  TransportError,
  ValidationError,
  createCodeAgent,
  defaultCapabilities,
  type AgentEvent,
  type CodeAgent,
} from '@forge/core';
import { freePort } from '@forge/core/internal';
import { collectRun, firstEvent, runProblems, sampleScript, scriptedAgent, type ScriptStep } from '@forge/core/testing';
import { describe, expect, it } from 'vitest';
import { grpcAgent, type GrpcAgentOptions } from './client.js';
import { TransportCodes, forgeErrorFromConnect, runError } from './errors.js';
import { checkHealth } from './health-client.js';
import { AgentService } from './gen/forge/agent/v1/agent_pb.js';
import { Health, HealthCheckResponse_ServingStatus } from './gen/grpc/health/v1/health_pb.js';
import { createAgentServiceRoutes } from './routes.js';
import { serveAgent } from './serve.js';
import { recordingAgent } from './test-support/recording-agent.js';
import { servedPair } from './test-support/served-pair.js';

const { cleanups, serve, client } = servedPair();

const hang: ScriptStep[] = [
  { type: 'session.started', sessionId: 'ses_h' },
  { type: 'text.delta', text: 'working' },
  { hang: true },
];

const modes: Array<[string, Omit<GrpcAgentOptions, 'baseUrl'>]> = [
  ['bidi Connect stream', {}],
  ['Execute per run', { protocol: 'connect', streaming: 'server' }],
];

describe.each(modes)('grpcAgent over %s', (_name, mode) => {
  it('forwards permission replies to the remote run and reports a refused reply as a typed error', async () => {
    const server = await serve(
      scriptedAgent({
        steps: [
          { type: 'permission.requested', id: 'perm_1', tool: 'Write', input: { path: 'a.txt' } },
          { awaitPermission: 'perm_1' },
          { type: 'message', text: 'done' },
        ],
      }),
    );
    const agent = client(server.url, mode);
    const run = agent.execute({ prompt: 'write a file' });
    const seen: AgentEvent[] = [];
    for await (const event of run) {
      seen.push(event);
      if (event.type === 'permission.requested') {
        await expect(run.respond('no_such_permission', 'allow')).rejects.toBeInstanceOf(ForgeError);
        await run.respond(event.id, 'allow_always');
      }
    }
    expect(runProblems(seen, run.id)).toEqual([]);
    expect(seen.find((e) => e.type === 'tool.result')).toMatchObject({
      callId: 'perm_1',
      output: 'permission allow_always',
      isError: false,
    });
    expect((await run.result).status).toBe('completed');
    await expect(run.respond('perm_1', 'allow')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
  });

  it('keeps many concurrent runs apart, each in seq order', async () => {
    const server = await serve(
      scriptedAgent({
        steps: (req) => [
          { type: 'session.started', sessionId: `ses_${req.prompt}` },
          ...Array.from({ length: 30 }, (_, i) => [
            { type: 'text.delta' as const, text: `${req.prompt}:${i} ` },
            { delayMs: i % 7 === 0 ? 1 : 0 },
          ]).flat(),
          { type: 'message', text: req.prompt },
        ],
      }),
    );
    const agent = client(server.url, mode);
    const runs = Array.from({ length: 20 }, (_, i) => agent.execute({ prompt: `r${i}` }));
    const outcomes = await Promise.all(runs.map(collectRun));
    outcomes.forEach(({ events, result }, i) => {
      expect(runProblems(events, runs[i]!.id)).toEqual([]);
      expect(result).toMatchObject({ status: 'completed', text: `r${i}`, sessionId: `ses_r${i}` });
      for (const e of events) if (e.type === 'text.delta') expect(e.text.startsWith(`r${i}:`)).toBe(true);
    });
  });

  it('passes a remote run failure through with its own error code', async () => {
    const server = await serve(
      scriptedAgent({
        steps: sampleScript(),
        outcome: { status: 'failed', error: { code: 'MODEL_OVERLOADED', message: 'try later' } },
      }),
    );
    const { result } = await collectRun(client(server.url, mode).execute({ prompt: 'x' }));
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({ code: 'MODEL_OVERLOADED', message: 'try later' });
    const typed = runError(result);
    expect(typed).toBeInstanceOf(ProviderError);
    expect(typed).toMatchObject({ code: 'MODEL_OVERLOADED', category: 'provider', retryable: false });
  });

  it('ends every open run failed (TRANSPORT_BROKEN) when the server dies mid-run, without hanging', async () => {
    const sockets = new Set<Socket>();
    const routes = createAgentServiceRoutes(scriptedAgent({ steps: hang }));
    const h2 = http2.createServer(connectNodeAdapter({ routes }));
    h2.on('connection', (s: Socket) => sockets.add(s));
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      await routes.drain({ graceful: false });
      await new Promise((r) => h2.close(r));
    });
    const agent = client(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`, mode);
    const runs = [agent.execute({ prompt: 'a' }), agent.execute({ prompt: 'b' }), agent.execute({ prompt: 'c' })];
    const readings = runs.map((r) => firstEvent(r));
    await Promise.all(readings.map((r) => r.event));
    // The process is gone: connections drop without a goodbye.
    for (const s of sockets) s.destroy();
    for (const [i, reading] of readings.entries()) {
      const events = await reading.all;
      expect(runProblems(events, runs[i]!.id)).toEqual([]);
      const result = await runs[i]!.result;
      expect(result.status).toBe('failed');
      expect(result.error?.code).toBe(TransportCodes.TRANSPORT_BROKEN);
      expect(result.sessionId).toBe('ses_h');
      const error = events.find((e) => e.type === 'error');
      expect(error).toMatchObject({ code: TransportCodes.TRANSPORT_BROKEN, retryable: true });
    }
  });

  it('reports an agent that cannot be reached as a retryable transport failure', async () => {
    const port = await freePort();
    const agent = client(`http://127.0.0.1:${port}`, mode);
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(TransportCodes.UNAVAILABLE);
    expect(events[0]).toMatchObject({ type: 'error', code: TransportCodes.UNAVAILABLE, retryable: true });
    expect(runError(result)).toBeInstanceOf(TransportError);
    expect(runError(result)).toMatchObject({ retryable: true, category: 'transport' });
    const failure = await agent.status().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransportError);
    expect(failure).toMatchObject({ code: TransportCodes.UNAVAILABLE, retryable: true, category: 'transport' });
    expect((failure as Error).message).toMatch(/Could not reach the agent at/);
  });

  it('gives up on a host that accepts connections but never answers', async () => {
    const { createServer: createTcpServer } = await import('node:net');
    const sockets = new Set<Socket>();
    const silent = createTcpServer((s) => sockets.add(s)); // reads nothing, says nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    });
    const agent = client(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, {
      ...mode,
      connectTimeoutMs: 200,
      callTimeoutMs: 200,
    });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(runProblems(events)).toEqual([]);
    expect(result.error?.code).toBe(TransportCodes.UNAVAILABLE);
    await expect(agent.status()).rejects.toBeInstanceOf(TransportError);
  });

  it('lets a slow reader lose nothing (backpressure through the stream)', async () => {
    const N = 5_000;
    const server = await serve(
      scriptedAgent({
        steps: Array.from({ length: N }, (_, i) => ({ type: 'text.delta' as const, text: String(i) })),
        highWaterMark: 16,
      }),
      { streamHighWaterMark: 8, maxBatch: 4 },
    );
    const agent = client(server.url, { ...mode, highWaterMark: 8 });
    const run = agent.execute({ prompt: 'many' });
    const events: AgentEvent[] = [];
    for await (const e of run) {
      events.push(e);
      if (events.length % 1000 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(events).toHaveLength(N + 1);
    expect(runProblems(events, run.id)).toEqual([]);
    expect(events.slice(0, N).map((e) => (e.type === 'text.delta' ? e.text : ''))).toEqual(
      Array.from({ length: N }, (_, i) => String(i)),
    );
  });

  it('cancels the remote run when the client is closed mid-run', async () => {
    const rec = recordingAgent(scriptedAgent({ steps: hang }));
    const server = await serve(rec.agent);
    const agent = grpcAgent({ baseUrl: server.url, ...mode });
    const run = agent.execute({ prompt: 'x' });
    await firstEvent(run).event;
    await agent.close();
    expect((await run.result).status).toBe('cancelled');
    expect((await rec.runs[0]!.result).status).toBe('cancelled');
  });

  it('fails a run the server refuses because it is shutting down, as retryable', async () => {
    const server = await serve(scriptedAgent({ steps: sampleScript() }));
    const agent = client(server.url, mode);
    await server.routes.drain({ graceful: false });
    const { events, result } = await collectRun(agent.execute({ prompt: 'x' }));
    expect(result.error?.code).toBe(TransportCodes.SHUTTING_DOWN);
    expect(events[0]).toMatchObject({ type: 'error', retryable: true, details: { category: 'transport' } });
  });
});

describe('server side', () => {
  it('cancels a run when its client goes away (Connect stream and Execute call)', async () => {
    const rec = recordingAgent(scriptedAgent({ steps: hang }));
    const server = await serve(rec.agent);
    const raw = createClient(AgentService, createGrpcTransport({ baseUrl: server.url }));

    const controller = new AbortController();
    const stream = raw.execute({ request: { prompt: 'x' } }, { signal: controller.signal })[Symbol.asyncIterator]();
    const first = await stream.next();
    expect(first.value?.events[0]?.body.case).toBe('sessionStarted');
    controller.abort();
    await expect(stream.next()).rejects.toThrow();
    const executeRun = await rec.runs[0]!.result;
    expect(executeRun.status).toBe('cancelled');
    expect(executeRun.error?.message).toMatch(/aborted|went away/);

    const controller2 = new AbortController();
    async function* commands() {
      yield {
        commandId: '1',
        command: { case: 'execute' as const, value: { runId: 'r-connect', request: { prompt: 'y' } } },
      };
      await new Promise(() => {}); // keep sending side open, like a live client
    }
    const bidi = raw.connect(commands(), { signal: controller2.signal })[Symbol.asyncIterator]();
    const got = await bidi.next();
    expect(got.value?.message.case).toBe('events');
    controller2.abort();
    await expect(bidi.next()).rejects.toThrow();
    const connectRun = await rec.runs[1]!.result;
    expect(connectRun.status).toBe('cancelled');
    expect(connectRun.error?.message).toMatch(/went away|stream to the client ended/);
  });

  it('cancels every run of a client whose connection drops, and stays up', async () => {
    const rec = recordingAgent(scriptedAgent({ steps: hang }));
    const server = await serve(rec.agent);
    const sessions = new Http2SessionManager(server.url);
    const remote = client(server.url, {
      transport: createGrpcTransport({ baseUrl: server.url, sessionManager: sessions }),
    });
    const runs = [remote.execute({ prompt: 'a' }), remote.execute({ prompt: 'b' })];
    await Promise.all(runs.map((r) => firstEvent(r).event));
    sessions.abort(new Error('the host process died'));
    for (const r of runs) expect((await r.result).error?.code).toBe(TransportCodes.TRANSPORT_BROKEN);
    const serverSide = await Promise.all(rec.runs.map((r) => r.result));
    expect(serverSide.map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
    expect(server.routes.runsInFlight).toBe(0);
    // The server goes on serving others.
    const { result } = await collectRun(client(server.url).execute({ prompt: 'c', timeoutMs: 200 }));
    expect(result.status).toBe('timed_out');
  });

  it('drains gracefully: finishes what finishes within the grace period, cancels the rest, refuses new runs', async () => {
    const agent = scriptedAgent({
      steps: (req) => (req.prompt === 'quick' ? [{ type: 'message', text: 'hi' }, { delayMs: 50 }] : hang),
    });
    const server = await serveAgent(agent, { port: 0 });
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    expect((await health.check({ service: '' })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await health.check({ service: 'forge.agent.v1.AgentService' })).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
    await expect(health.check({ service: 'nope' })).rejects.toMatchObject({ code: Code.NotFound });

    const remote = client(server.url);
    const quick = remote.execute({ prompt: 'quick' });
    const slow = remote.execute({ prompt: 'slow' });
    await firstEvent(slow).event;
    const closing = server.close({ graceful: true, graceMs: 1_000 });
    expect(server.routes.draining).toBe(true);
    expect((await remote.status()).draining).toBe(true);
    expect((await health.check({ service: '' })).status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    expect(await closing).toEqual({ finished: 1, cancelled: 1 });
    expect((await quick.result).status).toBe('completed');
    expect((await slow.result).status).toBe('cancelled');
    await server.closed;
  });

  it('shuts down on a Shutdown call and closes the server', async () => {
    const server = await serveAgent(scriptedAgent({ steps: hang }), { port: 0 });
    const remote = client(server.url);
    const run = remote.execute({ prompt: 'x' });
    await firstEvent(run).event;
    expect(await remote.shutdown({ graceful: false })).toEqual({ finished: 0, cancelled: 1 });
    expect((await run.result).status).toBe('cancelled');
    await server.closed;
  });

  it('reports status and capabilities', async () => {
    const server = await serve(
      scriptedAgent({ steps: sampleScript(), provider: 'claude-code', capabilities: { models: ['opus'] } }),
    );
    const remote = client(server.url, { provider: 'pod' });
    const status = await remote.status();
    expect(status).toMatchObject({ provider: 'claude-code', runsInFlight: 0, draining: false });
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(status.version).toBe(pkg.version);
    expect(await remote.capabilities()).toMatchObject({ resume: true, permissionReplies: true, models: ['opus'] });
    expect(remote.provider).toBe('pod');
  });

  it('answers an invalid request with a typed validation error, code and fields intact', async () => {
    const server = await serve(scriptedAgent({ steps: sampleScript() }));
    const raw = createClient(AgentService, createGrpcTransport({ baseUrl: server.url }));
    const error = await (async () => {
      for await (const _ of raw.execute({ request: { prompt: '  ', timeoutMs: 0 } })) void _;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    const forge = forgeErrorFromConnect(error as ConnectError);
    expect(forge).toBeInstanceOf(ValidationError);
    expect(forge.code).toBe('PROMPT_REQUIRED');
    expect((forge as ValidationError).issues.map((i) => i.path)).toContain('prompt');
  });

  it('tells a deadline from an unreachable agent, both retryable transport errors', async () => {
    const stuck: CodeAgent = { ...scriptedAgent({ steps: sampleScript() }), capabilities: () => new Promise(() => {}) };
    const server = await serve(stuck);
    const error = await client(server.url, { callTimeoutMs: 100 })
      .status()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: TransportCodes.DEADLINE_EXCEEDED, retryable: true });
  });

  it("fails a run whose id is already live on the server with the server's RUN_EXISTS", async () => {
    const server = await serve(scriptedAgent({ steps: hang }));
    const first = client(server.url).execute({ prompt: 'x' }, { runId: 'same-id' });
    await firstEvent(first).event;
    const { result } = await collectRun(client(server.url).execute({ prompt: 'y' }, { runId: 'same-id' }));
    expect(result.error?.code).toBe('RUN_EXISTS');
    expect((await first.cancel()).status).toBe('cancelled');
  });

  it('streams health changes to a Watch caller', async () => {
    const server = await serveAgent(scriptedAgent({ steps: sampleScript() }), { port: 0 });
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const seen: HealthCheckResponse_ServingStatus[] = [];
    const watching = (async () => {
      for await (const res of health.watch({ service: '' })) {
        seen.push(res.status);
        if (seen.length === 1) void server.close({ graceful: false });
      }
    })();
    await watching;
    expect(seen).toEqual([HealthCheckResponse_ServingStatus.SERVING, HealthCheckResponse_ServingStatus.NOT_SERVING]);
    await server.closed;
  });

  it('requires the bearer token when the server has one, leaving health checks open', async () => {
    const server = await serve(scriptedAgent({ steps: sampleScript() }), { authToken: 's3cret' });
    expect(await checkHealth(server.url)).toBe('SERVING');

    const anonymous = client(server.url);
    const refused = await anonymous.status().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransportError);
    expect(refused).toMatchObject({ code: 'AGENT_UNAUTHENTICATED', retryable: false });
    const { events, result } = await collectRun(anonymous.execute({ prompt: 'x' }));
    expect(result.error?.code).toBe('AGENT_UNAUTHENTICATED');
    expect(events[0]).toMatchObject({ type: 'error', retryable: false });

    const wrong = await collectRun(
      client(server.url, { authToken: 'nope', streaming: 'server' }).execute({ prompt: 'x' }),
    );
    expect(wrong.result.error?.code).toBe('AGENT_UNAUTHENTICATED');

    const { result: ok } = await collectRun(client(server.url, { authToken: 's3cret' }).execute({ prompt: 'x' }));
    expect(ok.status).toBe('completed');
  });

  it('refuses runs over maxRuns with the retryable AGENT_BUSY', async () => {
    const server = await serve(scriptedAgent({ steps: hang }), { maxRuns: 1 });
    const remote = client(server.url);
    const first = remote.execute({ prompt: 'a' });
    await firstEvent(first).event;
    const { events, result } = await collectRun(remote.execute({ prompt: 'b' }));
    expect(result.error?.code).toBe(TransportCodes.BUSY);
    expect(events[0]).toMatchObject({ type: 'error', retryable: true });
    await first.cancel();
    const again = remote.execute({ prompt: 'c' });
    expect((await firstEvent(again).event).type).toBe('session.started');
    await again.cancel();
  });

  it('refuses a baseUrl that is not an http(s) URL, and gRPC over HTTP/1.1, with ValidationErrors', () => {
    expect(() => grpcAgent({ baseUrl: 'agent-pod:8080' })).toThrow(ValidationError);
    expect(() => grpcAgent({ baseUrl: 'http://x', protocol: 'grpc', httpVersion: '1.1' })).toThrow(ValidationError);
  });

  it('compresses both ways when asked (gzip), events intact', async () => {
    const big = 'lorem ipsum '.repeat(500);
    const server = await serve(scriptedAgent({ steps: (req) => [{ type: 'message', text: req.prompt }] }));
    const { events, result } = await collectRun(client(server.url, { compression: true }).execute({ prompt: big }));
    expect(runProblems(events)).toEqual([]);
    expect(result.text).toBe(big);
  });

  it('gives up on a permission reply the agent never acknowledges (DEADLINE_EXCEEDED)', async () => {
    const stuck = createCodeAgent({
      provider: 'stuck',
      declared: defaultCapabilities({ permissionReplies: true }),
      async run(ctx) {
        ctx.onRespond(() => new Promise(() => {}));
        ctx.emit({ type: 'permission.requested', id: 'p1', tool: 'Bash', input: {} });
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return {};
      },
    });
    const server = await serve(stuck);
    const run = client(server.url, { callTimeoutMs: 100 }).execute({ prompt: 'x' });
    await firstEvent(run).event;
    await expect(run.respond('p1', 'allow')).rejects.toMatchObject({
      code: TransportCodes.DEADLINE_EXCEEDED,
      retryable: true,
    });
    expect((await run.cancel()).status).toBe('cancelled');
  });

  it('mounts on a host router (createRouterTransport) as well as on its own server', async () => {
    const routes = createAgentServiceRoutes(scriptedAgent({ steps: sampleScript() }));
    const remote = grpcAgent({ baseUrl: 'in-memory', transport: createRouterTransport(routes), provider: 'mem' });
    cleanups.push(() => remote.close());
    const { events, result } = await collectRun(remote.execute({ prompt: 'x' }));
    expect(runProblems(events)).toEqual([]);
    expect(result.status).toBe('completed');
  });
});
