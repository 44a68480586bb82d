import type { AgentRequest, CodeAgent } from '@forge/core';
import { scriptedAgent, type ScriptStep } from '@forge/core/testing';
import { createTwoFilesPatch } from 'diff';
import { DEMO_COLOUR_QUESTION } from '../demo-question.js';

export const PERMISSION_ID = 'perm_demo_1';
export const QUESTION_ID = 'question_demo_1';

/**
 * An offline agent for tests and demos, with no model at all. It echoes the prompt; a prompt that
 * mentions "permission" asks to run a Bash command and waits for the reply; one that mentions "question"
 * asks which colour (options, or typed text) and waits for the answer ("questions": also which sizes, several
 * allowed); one that mentions "edit" changes a file (a diff), "plan" keeps a plan, "subagent" hands work to
 * a subagent whose events nest under its tool call; one that mentions "wait" runs until interrupted (and can be
 * steered meanwhile).
 */
export function scriptedDemoAgent(options: { delayMs?: number } = {}): CodeAgent {
  const pause: ScriptStep[] = options.delayMs ? [{ delayMs: options.delayMs }] : [];
  const steps = (request: AgentRequest): ScriptStep[] => {
    const prompt = request.prompt.trim();
    const reply = `You said: ${prompt}`;
    const out: ScriptStep[] = [
      {
        type: 'session.started',
        sessionId: request.sessionId ?? `ses_${globalThis.crypto.randomUUID().slice(0, 8)}`,
        model: 'scripted',
        tools: ['Bash'],
        ...(request.cwd ? { cwd: request.cwd } : {}),
      },
      ...pause,
    ];
    if (/permission/i.test(prompt)) {
      out.push(
        { type: 'tool.call', callId: PERMISSION_ID, name: 'Bash', input: { command: 'ls' } },
        { type: 'permission.requested', id: PERMISSION_ID, tool: 'Bash', input: { command: 'ls' } },
        { awaitPermission: PERMISSION_ID },
      );
    }
    if (/question/i.test(prompt)) {
      const colour = { ...DEMO_COLOUR_QUESTION, multiple: false, custom: true };
      const sizes = {
        question: 'Which sizes should it come in?',
        header: 'Sizes',
        options: [{ label: 'S' }, { label: 'M' }, { label: 'L' }],
        multiple: true,
        custom: false,
      };
      // "questions" (plural) asks two at once, the second with several choices.
      const questions = /questions/i.test(prompt) ? [{ ...colour, custom: false }, sizes] : [colour];
      out.push({ type: 'question.requested', id: QUESTION_ID, questions }, { awaitQuestion: QUESTION_ID });
    }
    if (/\bplan\b/i.test(prompt)) out.push(...planSteps(pause));
    if (/\bsubagent\b/i.test(prompt)) out.push(...subagentSteps());
    if (/\bedit\b/i.test(prompt)) out.push(...editSteps());
    if (/\bwait\b/i.test(prompt)) out.push({ type: 'text.delta', text: 'Working…' }, { hang: true });
    for (const word of reply.split(/(?<= )/))
      out.push({ type: 'text.delta', text: word, messageId: 'msg_1' }, ...pause);
    out.push(
      { type: 'message', text: reply, messageId: 'msg_1' },
      {
        type: 'usage',
        usage: { inputTokens: prompt.length, outputTokens: reply.length, cacheReadTokens: 0, cacheWriteTokens: 0 },
      },
    );
    return out;
  };
  return scriptedAgent({
    steps,
    outcome: (request) => ({ text: `You said: ${request.prompt.trim()}` }),
    // A steering message shows as a log event ("steered: …"), so the steer route can be tried on a waiting run.
    capabilities: { steering: true },
  });
}

const PLAN = ['Read the code', 'Change the greeting', 'Run the tests'];

/** The plan as it moves on: each plan.updated carries the whole plan. */
function planSteps(pause: ScriptStep[]): ScriptStep[] {
  const at = (done: number): ScriptStep => ({
    type: 'plan.updated',
    entries: PLAN.map((content, i) => ({
      id: `task_${i + 1}`,
      content,
      status: i < done ? 'completed' : i === done ? 'in_progress' : 'pending',
    })),
  });
  return [at(0), ...pause, at(1), ...pause, at(2)];
}

/** A subagent started by a Task tool call: its events carry that call's id. */
function subagentSteps(): ScriptStep[] {
  const parentToolCallId = 'call_task_1';
  return [
    { type: 'tool.call', callId: parentToolCallId, name: 'Task', input: { description: 'Look for TODOs' } },
    { type: 'tool.call', callId: 'call_grep_1', name: 'Grep', input: { pattern: 'TODO' }, parentToolCallId },
    {
      type: 'tool.result',
      callId: 'call_grep_1',
      output: 'src/app.ts:3: // TODO greet by name',
      isError: false,
      parentToolCallId,
    },
    { type: 'message', text: 'One TODO, in src/app.ts.', messageId: 'msg_sub_1', parentToolCallId },
    { type: 'tool.result', callId: parentToolCallId, output: 'One TODO, in src/app.ts.', isError: false },
  ];
}

/** An Edit of src/app.ts and its diff, made after the tool succeeded. */
function editSteps(): ScriptStep[] {
  const before = "export function greet() {\n  // TODO greet by name\n  return 'hello';\n}\n";
  const after = "export function greet(name: string) {\n  return 'hello ' + name;\n}\n";
  const input = { file_path: 'src/app.ts', old_string: before, new_string: after };
  return [
    { type: 'tool.call', callId: 'call_edit_1', name: 'Edit', input },
    { type: 'tool.result', callId: 'call_edit_1', output: 'The file src/app.ts has been updated.', isError: false },
    {
      type: 'file.changed',
      path: 'src/app.ts',
      change: 'modified',
      diff: createTwoFilesPatch('a/src/app.ts', 'b/src/app.ts', before, after),
      toolCallId: 'call_edit_1',
    },
  ];
}
