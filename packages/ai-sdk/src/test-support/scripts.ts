import type { ScriptStep } from '@forge/core/testing';
import { createTwoFilesPatch } from 'diff';

const before = 'for (let i = 0; i <= n; i++) sum += xs[i];\n';
const after = 'for (let i = 0; i < n; i++) sum += xs[i];\n';

/**
 * A whole review-shaped run: reasoning, streamed text, a plan updated three times, an Edit asked for and
 * allowed, the file change it made (with a diff from jsdiff, as adapters make them), a retried API call, a
 * test run, a question answered, and the closing text.
 */
export function reviewScript(): ScriptStep[] {
  const plan = (a: string, b: string, c: string) => ({
    type: 'plan.updated' as const,
    entries: [
      { id: '1', content: 'Find the bug', status: a },
      { id: '2', content: 'Fix the loop', status: b },
      { id: '3', content: 'Run the tests', status: c },
    ] as { id: string; content: string; status: 'pending' | 'in_progress' | 'completed' }[],
  });
  return [
    { type: 'session.started', sessionId: 'ses_review', model: 'scripted-model', cwd: '/work/app' },
    { type: 'reasoning', text: 'The test fails ', messageId: 'msg_1' },
    { type: 'reasoning', text: 'on an off-by-one.', messageId: 'msg_1' },
    { type: 'text.delta', text: 'I will ', messageId: 'msg_1' },
    { type: 'text.delta', text: 'fix the loop.', messageId: 'msg_1' },
    { type: 'message', text: 'I will fix the loop.', messageId: 'msg_1' },
    plan('completed', 'in_progress', 'pending'),
    { type: 'tool.call', callId: 'toolu_edit', name: 'Edit', input: { file_path: 'src/loop.ts' } },
    { type: 'permission.requested', id: 'toolu_edit', tool: 'Edit', input: { file_path: 'src/loop.ts' } },
    { awaitPermission: 'toolu_edit' },
    {
      type: 'file.changed',
      path: 'src/loop.ts',
      change: 'modified',
      diff: createTwoFilesPatch('a/src/loop.ts', 'b/src/loop.ts', before, after),
      toolCallId: 'toolu_edit',
    },
    plan('completed', 'completed', 'in_progress'),
    { type: 'error', code: 'API_RETRY', message: 'overloaded, retrying in 1 s', retryable: true },
    { type: 'tool.call', callId: 'toolu_test', name: 'Bash', input: { command: 'npm test' } },
    { type: 'tool.result', callId: 'toolu_test', output: '1 passed', isError: false },
    plan('completed', 'completed', 'completed'),
    { type: 'tool.call', callId: 'q1', name: 'AskUserQuestion', input: {} },
    {
      type: 'question.requested',
      id: 'q1',
      questions: [
        { question: 'Commit the fix?', options: [{ label: 'Yes' }, { label: 'No' }], multiple: false, custom: false },
      ],
    },
    { awaitQuestion: 'q1' },
    { type: 'message', text: 'Fixed and tested.', messageId: 'msg_2' },
    { type: 'usage', usage: { inputTokens: 100, outputTokens: 40, cacheReadTokens: 0, cacheWriteTokens: 0 } },
  ];
}

/** A subagent (Claude's Task tool) working while the main agent streams: both lanes interleave. */
export function subagentScript(): ScriptStep[] {
  const sub = { parentToolCallId: 'task_1' };
  return [
    { type: 'tool.call', callId: 'task_1', name: 'Task', input: { prompt: 'read it' } },
    { type: 'text.delta', text: 'Main agent ', messageId: 'm_main' },
    { type: 'text.delta', text: 'Sub-agent ', messageId: 'm_sub', ...sub },
    { type: 'text.delta', text: 'waits. ', messageId: 'm_main' },
    { type: 'text.delta', text: 'reads. ', messageId: 'm_sub', ...sub },
    { type: 'plan.updated', entries: [{ content: 'Read the file', status: 'in_progress' }], ...sub },
    { type: 'tool.call', callId: 'read_1', name: 'Read', input: { file_path: 'a.ts' }, ...sub },
    { type: 'tool.result', callId: 'read_1', output: 'export {}', isError: false, ...sub },
    { type: 'tool.result', callId: 'task_1', output: 'read a.ts', isError: false },
    { type: 'message', text: 'Both done.', messageId: 'm_end' },
  ];
}
