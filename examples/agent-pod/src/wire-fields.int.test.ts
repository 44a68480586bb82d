import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentEvent, type AgentRun, silentLogger } from '@forge/core';
import { runProblems } from '@forge/core/testing';
import {
  codexBinPath,
  type FakeResponsesApi,
  type FakeResponsesResponder,
  startFakeResponsesApi,
} from '@forge/codex/testing';
import { grpcAgent, serveAgent } from '@forge/transport-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonceMcpStdio } from '../../../scripts/test-support/nonce-mcp-server.js';
import { readConfig } from './config.js';
import { createPodProvider } from './providers.js';

/** Reads a run to its end, calling `on` for each event (answering permissions, steering…). */
async function drive(run: AgentRun, on: (event: AgentEvent) => Promise<void>) {
  const events: AgentEvent[] = [];
  for await (const e of run) {
    events.push(e);
    await on(e);
  }
  return { events, result: await run.result };
}

// The newer request fields and steering through the wire to a real agent: FORGE_PROVIDER=codex (the app server)
// behind serveAgent, reached with grpcAgent, its model the fake Responses API.
describe('agent pod serving the real Codex CLI: MCP servers, outputSchema and steering over gRPC', () => {
  let api: FakeResponsesApi;
  let scratch: string;
  let responder: FakeResponsesResponder = () => ({ text: 'unset' });
  let close: () => Promise<void> = async () => {};
  let client: ReturnType<typeof grpcAgent>;
  const env = () => ({ HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') });

  beforeAll(async () => {
    api = await startFakeResponsesApi({ respond: (req) => responder(req) });
    scratch = await mkdtemp(join(tmpdir(), 'forge-pod-wire-'));
    await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
    process.env.FORGE_TEST_POD_CODEX_KEY = 'sk-pod-key';
    const config = readConfig(
      {
        FORGE_PROVIDER: 'codex',
        FORGE_BIN: codexBinPath(),
        FORGE_MODEL: 'fake-model',
        FORGE_CODEX_BASE_URL: api.url,
        FORGE_CODEX_KEY_ENV: 'FORGE_TEST_POD_CODEX_KEY',
        PORT: '0',
        HOST: '127.0.0.1',
      },
      scratch,
    );
    const provider = await createPodProvider(config, silentLogger);
    const server = await serveAgent(provider.agent, { port: 0, host: '127.0.0.1', logger: silentLogger });
    client = grpcAgent({ baseUrl: server.url });
    close = async () => {
      await client.close();
      await server.close({ graceful: false });
      await provider.close();
    };
  });
  afterAll(async () => {
    delete process.env.FORGE_TEST_POD_CODEX_KEY;
    await close();
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('declares what the app server honours, through GetStatus', async () => {
    expect(await client.capabilities()).toMatchObject({ mcpServers: true, structuredOutput: 'native', steering: true });
  });

  it('an MCP server and an output schema: the tool is asked for and allowed over the wire, the answer is result.output', async () => {
    responder = (req) =>
      req.hasToolOutput
        ? { text: JSON.stringify({ nonce: req.toolOutput.trim() }) }
        : req.tools.includes('mcp__probe.nonce')
          ? { call: { namespace: 'mcp__probe', name: 'nonce', arguments: {} } }
          : { text: '{"nonce":"no tool offered"}' };
    const schema = {
      type: 'object',
      properties: { nonce: { type: 'string' } },
      required: ['nonce'],
      additionalProperties: false,
    };
    const run = client.execute({
      prompt: 'what is the nonce?',
      mcpServers: [nonceMcpStdio('N-pod-wire-7')],
      outputSchema: schema,
      env: env(),
      timeoutMs: 60_000,
    });
    const { events, result } = await drive(run, async (e) => {
      if (e.type === 'permission.requested') await run.respond(e.id, 'allow');
    });
    expect(runProblems(events, run.id)).toEqual([]);
    expect(events.filter((e) => e.type === 'permission.requested')).toMatchObject([{ tool: 'mcp__probe__nonce' }]);
    expect(result).toMatchObject({ status: 'completed', output: { nonce: expect.stringContaining('N-pod-wire-7') } });
  });

  it('run.steer() mid-turn reaches the model through the wire', async () => {
    const STEER = 'FORGE-STEER-pod-9: answer in French';
    responder = (req) =>
      JSON.stringify(req.body.input).includes(STEER)
        ? { text: 'Bien reçu.' }
        : req.hasToolOutput
          ? { text: 'Not steered.' }
          : { shell: 'echo hi' };
    const run = client.execute({ prompt: 'run echo', env: env(), timeoutMs: 60_000 });
    const { events, result } = await drive(run, async (e) => {
      // The turn waits on the approval: a steer now lands while it runs, before the model's next call.
      if (e.type !== 'permission.requested') return;
      await run.steer(STEER);
      await run.respond(e.id, 'allow');
    });
    expect(runProblems(events, run.id)).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', text: 'Bien reçu.' });
  });
});
