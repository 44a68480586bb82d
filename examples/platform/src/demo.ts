import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  claudeBinPath,
  fakeAnthropicEnv,
  startFakeAnthropicApi,
  type FakeAnthropicApi,
} from '@forge/claude-code/testing';
import type { AgentEvent } from '@forge/core';
import { hashKey } from './api-keys.js';
import { startPlatform, type Platform } from './app.js';
import { dropSecretsFromEnv, loadConfig } from './config.js';
import { OFFLINE_NOTE, offlineResponder } from './offline-model.js';
import { jsonLogger } from './logger.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';
import { joinCommand } from './join-command.js';

/**
 * The README's demo: the platform in local mode, one agent, one message through the real Claude
 * Code CLI, its events to a verifying webhook receiver, and the dashboard — with or without an
 * Anthropic account. `--once` (or FORGE_DEMO_ONCE=1) exits after the first run, 0 on success.
 */
const once = process.argv.includes('--once') || process.env.FORGE_DEMO_ONCE === '1';
const online = !!process.env.ANTHROPIC_API_KEY;
const PROMPT = 'List the files in your workspace, then tell me what you found.';
const say = (text = '') => console.log(text);

/** One line about an event, for the demo's webhook log. */
function describeEvent(e: AgentEvent): string {
  switch (e.type) {
    case 'text.delta':
    case 'message':
      return JSON.stringify(e.text);
    case 'tool.call':
      return `${e.name} ${JSON.stringify(e.input)}`;
    case 'tool.result':
      return JSON.stringify(String(typeof e.output === 'string' ? e.output : JSON.stringify(e.output)).slice(0, 80));
    case 'permission.requested':
      return `${e.tool} ${JSON.stringify(e.input).slice(0, 80)}`;
    case 'question.requested':
      return e.questions.map((q) => `${q.question} [${q.options.map((o) => o.label).join(' | ')}]`).join(' ');
    case 'run.completed':
      return `${e.result.status} ${JSON.stringify(e.result.text)}`;
    case 'error':
      return `${e.code}: ${e.message}`;
    case 'log':
      return JSON.stringify(e.text.slice(0, 80));
    case 'session.started':
      return `session ${e.sessionId}`;
    case 'usage':
      return `${e.usage.inputTokens} in / ${e.usage.outputTokens} out tokens`;
    default:
      return '';
  }
}

async function listenPlatform(start: (port: number) => Promise<Platform>, port: number): Promise<Platform> {
  try {
    return await start(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code !== 'EADDRINUSE' || port === 0) throw error;
    say(`Port ${port} is taken; using a free one.`);
    return start(0);
  }
}

async function main(): Promise<number> {
  const scratch = await mkdtemp(join(tmpdir(), 'forge-demo-'));
  const cleanup: Array<() => Promise<unknown>> = [() => rm(scratch, { recursive: true, force: true })];
  const closeAll = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  };
  try {
    let model: FakeAnthropicApi | undefined;
    let claudeEnv: Record<string, string> = { HOME: process.env.HOME ?? scratch };
    say('Forge platform demo');
    say('===================');
    if (online) {
      say(
        'ANTHROPIC_API_KEY is set: the agent runs the real Claude Code CLI against the real Anthropic API (this costs tokens).',
      );
    } else {
      model = await startFakeAnthropicApi(offlineResponder());
      cleanup.push(() => model!.close());
      claudeEnv = { ...fakeAnthropicEnv(model.url), HOME: join(scratch, 'claude-home') };
      say('OFFLINE MODE: no ANTHROPIC_API_KEY is set.');
      say(`  The real Claude Code CLI runs, but talks to a small offline model stand-in on ${model.url}`);
      say('  instead of Anthropic. Its answers are scripted (call Bash `ls`, then describe the result), so you');
      say('  see the whole path — API → agent → tool → events → webhook/dashboard — without an account.');
      say('  Set ANTHROPIC_API_KEY to talk to the real model.');
    }
    say();

    const apiKey = `forge_demo_${randomBytes(18).toString('base64url')}`;
    const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
    const base = loadConfig([], process.env);
    dropSecretsFromEnv(process.env);
    const dataDir = join(scratch, 'agents');
    const logger = jsonLogger({
      level: (process.env.FORGE_LOG_LEVEL as 'debug' | 'info' | 'warn' | undefined) ?? 'warn',
    });
    const config = {
      ...base,
      dataDir,
      apiKeys: [{ userId: 'demo', hash: hashKey(apiKey) }],
      defaultProvider: 'claude-code',
      claudeBin: process.env.FORGE_CLAUDE_BIN || claudeBinPath(),
      // The demo's own receiver is on 127.0.0.1; production keeps private addresses refused.
      webhookAllowPrivate: ['127.0.0.1'],
      // A dial-home hub, so an agent on another machine (or terminal) can join; not needed for --once.
      ...(once
        ? {}
        : { hubPort: base.hubPort ?? 0, hubSecret: base.hubSecret ?? randomBytes(32).toString('base64url') }),
    };
    const platform = await listenPlatform(
      (port) => startPlatform({ config: { ...config, port }, logger, claudeEnv }),
      process.env.FORGE_PORT || process.env.PORT ? base.port : once ? 0 : 8080,
    );
    cleanup.push(() => platform.close());

    const receiver: WebhookReceiver = await startWebhookReceiver({
      secret: webhookSecret,
      onEvent: ({ payload }) => {
        const e = payload.event;
        const detail = describeEvent(e);
        say(
          `  webhook ✓ signature verified  seq ${String(payload.seq).padStart(2)}  ${payload.event_type.padEnd(14)} ${e.type.padEnd(16)} ${detail}${payload.is_final ? '  [final]' : ''}`,
        );
      },
    });
    cleanup.push(() => receiver.close());

    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(platform.url + path, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

    say(`Platform: ${platform.url} (local backend; agents live under ${dataDir})`);
    const agent = await call('POST', '/api/v1/agents', { owner_id: 'demo', provider: 'claude-code' });
    say(
      `POST /api/v1/agents → 201  agent ${String(agent.agent_id)} (${String(agent.provider)}, ${String(agent.state)})`,
    );
    // Something for `ls` to find.
    await writeFile(
      join(dataDir, 'demo', String(agent.agent_id), 'workspace', 'hello.txt'),
      'Hello from the Forge demo.\n',
    );
    await writeFile(join(dataDir, 'demo', String(agent.agent_id), 'workspace', 'notes.md'), '# Notes\n');
    const sent = await call('POST', `/api/v1/agents/${String(agent.agent_id)}/messages`, {
      content: PROMPT,
      allowed_tools: ['Bash'],
      webhook_url: receiver.url,
      webhook_secret: webhookSecret,
    });
    say(
      `POST /api/v1/agents/${String(agent.agent_id)}/messages → 202  request ${String(sent.request_id)}  "${PROMPT}"`,
    );
    say(`Events, as the webhook receiver on ${receiver.url} gets them:`);
    const limitMs = Number(process.env.FORGE_DEMO_TIMEOUT_MS) || 180_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const events = await Promise.race([
      receiver.final(String(sent.request_id)),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), limitMs);
      }),
    ]);
    clearTimeout(timer);
    if (!events) {
      say(`No final webhook within ${limitMs / 1000} s; see the platform log (FORGE_LOG_LEVEL=info).`);
      return 1;
    }
    const final = events.at(-1)!.payload.event;
    const ok = final.type === 'run.completed' && final.result.status === 'completed';
    say();
    say(
      ok
        ? `Run completed: ${events.length} events delivered, signed and in order.`
        : `Run did not complete: ${JSON.stringify(final)}`,
    );
    if (once) return ok ? 0 : 1;

    say();
    say(`Dashboard: ${platform.url}/`);
    say(`API key (user "demo"): ${apiKey}`);
    say('  Paste the key into the dashboard, choose the agent, send a message and watch the events stream');
    say('  (type Bash into "allowed tools" to let Claude Code run commands without asking).');
    if (!online) {
      say(`  The offline stand-in model writes ${OFFLINE_NOTE} when a message says "write a note": Claude Code asks`);
      say('  first, so the dashboard shows Approve / Deny. "Ask me a question" makes it ask one (AskUserQuestion):');
      say('  click an option or type an answer.');
    }
    say('  Provider "scripted" needs no CLI: "permission" asks to run a tool, "question" asks a question.');
    say(`  curl -H "Authorization: Bearer ${apiKey}" ${platform.url}/api/v1/agents`);
    if (platform.remote) {
      const token = platform.remote.hub.issueEnrolmentToken({ name: 'my-laptop' });
      say();
      say(`Remote agents: a dial-home hub listens on ${platform.remote.url}. From another terminal, this joins an`);
      say('agent that dials out to it (it shows up online under "Remote agents" on the dashboard):');
      say(
        `  ${joinCommand({
          hubUrl: platform.remote.url,
          token: token.token,
          name: 'my-laptop',
          provider: 'scripted',
          credentialFile: join(scratch, 'remote-agent.json'),
        })}`,
      );
      say('  (the token is single-use and expires in an hour; the agent keeps the credential it gets for it)');
    }
    say();
    say('Serving until Ctrl-C.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    say('\nStopping…');
    return 0;
  } finally {
    await closeAll();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('demo failed:', error);
    process.exit(1);
  },
);
