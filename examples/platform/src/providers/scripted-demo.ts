import type { AgentRequest, CodeAgent } from '@forge/core';
import { scriptedAgent, type ScriptStep } from '@forge/core/testing';

export const PERMISSION_ID = 'perm_demo_1';
export const QUESTION_ID = 'question_demo_1';

/**
 * An offline agent for tests and demos, with no model at all. It echoes the prompt; a prompt that
 * mentions "permission" asks to run a Bash command and waits for the reply; one that mentions "question"
 * asks which colour (options, or typed text) and waits for the answer ("questions": also which sizes, several
 * allowed); one that mentions "wait" runs
 * until interrupted; it can be steered meanwhile.
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
      const colour = {
        question: 'Which colour should the button be?',
        header: 'Colour',
        options: [
          { label: 'Blue', description: 'calm' },
          { label: 'Red', description: 'loud' },
        ],
        multiple: false,
        custom: true,
      };
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
