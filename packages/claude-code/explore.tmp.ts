import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeAnthropicApi, claudeBinPath, fakeAnthropicEnv, type FakeResponder } from './src/testing/index.js';

const scenario = process.argv[2]!;
const extra = JSON.parse(process.argv[3] ?? '[]') as string[];
const scratch = mkdtempSync('/tmp/cc-explore/s-');
mkdirSync(join(scratch, 'home'));
mkdirSync(join(scratch, 'work'));
writeFileSync(join(scratch, 'work', 'a.txt'), 'one\ntwo\nthree\n');
let step = 0;
const scenarios: Record<string, FakeResponder> = {
  schema: (req) => {
    const tools = (req.body.tools as { name: string }[]).map((t) => t.name);
    console.error('TOOLS', tools.filter((t) => /Struct/.test(t)));
    if (step++ === 0) return { toolUse: { name: 'StructuredOutput', input: { verdict: 'approve', score: 1 } } };
    return { text: 'done' };
  },
  effort: (req) => { console.error('BODYKEYS', JSON.stringify(req.body.output_config), JSON.stringify(req.body.thinking)); return { text: 'ok' }; },
  edit: (req) => {
    const s = step++;
    const f = join(scratch, 'work', 'a.txt');
    if (s === 0) return { toolUse: { name: 'Read', input: { file_path: f } } };
    if (s === 1) return { toolUse: { name: 'Edit', input: { file_path: f, old_string: 'two', new_string: 'TWO' } } };
    if (s === 2) return { toolUse: { name: 'Write', input: { file_path: join(scratch, 'work', 'b.txt'), content: 'new file\n' } } };
    if (s === 3) return { toolUse: { name: 'Write', input: { file_path: f, content: 'replaced\n' } } };
    if (s === 4) return { toolUse: { name: 'TaskCreate', input: { subject: 'Read the code', description: 'look', activeForm: 'Reading the code' } } };
    if (s === 5) return { toolUse: { name: 'TaskCreate', input: { subject: 'Fix it', description: 'fix', activeForm: 'Fixing' } } };
    if (s === 6) return { toolUse: { name: 'TaskUpdate', input: { taskId: '1', status: 'in_progress' } } };
    if (s === 7) return { toolUse: { name: 'TaskList', input: {} } };
    if (s === 8) return { toolUse: { name: 'TaskUpdate', input: { taskId: '1', status: 'completed' } } };
    return { text: 'all done' };
  },
  steer: (req) => {
    console.error("REQ", step, JSON.stringify(req.lastUserText).slice(0, 200), req.hasToolResult, JSON.stringify(req.body.messages.slice(-2)).match(/.{0,300}STEER.{0,200}/)?.[0]);
    const s = step++;
    if (s === 0) return { toolUse: { name: 'Bash', input: { command: 'sleep 2; echo hi', description: 'wait' } } };
    return { text: `answer ${s}` };
  },
  slowtext: (req) => {
    console.error("REQ", step, JSON.stringify(req.body.messages.slice(-2)).match(/.{0,100}STEER.{0,100}/)?.[0]);
    const s = step++;
    return { text: `answer ${s} one two three four five six seven eight`, delayMs: 300 };
  },
  mcp: (req) => {
    const s = step++;
    if (s === 0) return { toolUse: { name: 'mcp__probe__nonce', input: {} } };
    return { text: 'got it' };
  },
  sub: (req) => {
    console.error('REQ', step, JSON.stringify(req.lastUserText).slice(0, 100));
    const s = step++;
    if (s === 0) return { toolUse: { name: 'Task', input: { description: 'look around', prompt: 'SUBAGENT please run echo', subagent_type: 'general-purpose' } } };
    if (req.lastUserText.includes('SUBAGENT') && !req.hasToolResult) return { toolUse: { name: 'Bash', input: { command: 'echo sub', description: 'sub' } } };
    if (s < 4) return { text: `sub done ${s}` };
    return { text: 'main done' };
  },
};
const api = await startFakeAnthropicApi({ respond: scenarios[scenario]! });
const args = ['-p', '--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose', ...extra];
const child = spawn(claudeBinPath(), args, {
  cwd: join(scratch, 'work'),
  env: { PATH: process.env.PATH!, ...fakeAnthropicEnv(api.url), HOME: join(scratch, 'home') },
  stdio: ['pipe', 'pipe', 'inherit'],
});
let buf = '';
child.stdout.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const l = buf.slice(0, i);
    buf = buf.slice(i + 1);
    console.log(l);
    const m = JSON.parse(l);
    if (m.type === 'result' && process.env.ONE !== '0') child.stdin.end();
  }
});
const msgs = JSON.parse(process.env.MSGS ?? '[]') as { at: number; msg: unknown }[];
child.stdin.write(JSON.stringify({ type: 'user', message: { role: 'user', content: process.env.CONTENT ? JSON.parse(process.env.CONTENT) : 'go' }, parent_tool_use_id: null, session_id: '' }) + '\n');
for (const m of msgs) setTimeout(() => child.stdin.write(JSON.stringify(m.msg) + '\n'), m.at);
if (process.env.ONE === '0') setTimeout(() => child.stdin.end(), Number(process.env.ENDAT ?? 6000));
child.on('exit', async (c) => { console.error('EXIT', c, scratch); await api.close(); });
