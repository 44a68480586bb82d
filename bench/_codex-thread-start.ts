/**
 * Not a bench row: how a codex new thread's first turn splits between `thread/start` and the turn, on an app
 * server started and initialized ahead of time (what `prewarm` gives), the real CLI against the fake Responses
 * API. `node --conditions=@forge/source --import tsx bench/_codex-thread-start.ts [rounds]`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JsonRpcClient } from '@forge/codex/internal';
import { codexBinPath, fakeResponsesProvider, startFakeResponsesApi } from '@forge/codex/testing';
import { localProcessRunner } from '@forge/core';
import { providerConfigArgs } from '@forge/codex/internal';

const rounds = Number(process.argv[2] ?? 10);
const scratch = await mkdtemp(join(tmpdir(), 'forge-codex-split-'));
await mkdir(join(scratch, 'home', '.codex'), { recursive: true });
const api = await startFakeResponsesApi({ respond: () => ({ text: 'One line.' }) });
const proc = await localProcessRunner().spawn(
  codexBinPath(),
  ['app-server', ...providerConfigArgs(fakeResponsesProvider(api.url))],
  { cwd: scratch, env: { ...process.env, HOME: join(scratch, 'home'), CODEX_HOME: join(scratch, 'home', '.codex') } },
);
let completed: (() => void) | undefined;
const rpc = new JsonRpcClient(proc, {
  notification(method: string) {
    if (method === 'turn/completed') completed?.();
  },
  request() {},
} as never);
await rpc.request('initialize', {
  clientInfo: { name: 'forge', title: 'Forge', version: '0.1.0' },
  capabilities: { experimentalApi: true, requestAttestation: false },
});
await rpc.notify('initialized');
await new Promise((r) => setTimeout(r, 2_000));
const start: number[] = [];
const turn: number[] = [];
const params = { cwd: scratch, model: 'fake-model', approvalPolicy: 'never', sandbox: 'workspace-write' };
for (let i = 0; i < rounds; i++) {
  const t0 = performance.now();
  const started = await rpc.request<{ thread: { id: string } }>('thread/start', params);
  const t1 = performance.now();
  const done = new Promise<void>((r) => (completed = r));
  await rpc.request('turn/start', {
    threadId: started.thread.id,
    input: [{ type: 'text', text: 'hello, in one line', text_elements: [] }],
  });
  await done;
  const t2 = performance.now();
  start.push(t1 - t0);
  turn.push(t2 - t1);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `thread/start median ${med(start).toFixed(1)} ms (min ${Math.min(...start).toFixed(1)}), turn/start → turn/completed median ${med(turn).toFixed(1)} ms (min ${Math.min(...turn).toFixed(1)}), share ${((100 * med(start)) / (med(start) + med(turn))).toFixed(0)} %, ${rounds} rounds, load ${loadavg()[0]!.toFixed(1)}`,
);
proc.kill?.('SIGTERM');
await api.close();
await rm(scratch, { recursive: true, force: true });
process.exit(0);
