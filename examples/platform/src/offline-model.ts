import { toolResultText, type FakeApiRequest, type FakeReply, type FakeResponder } from '@forge/claude-code/testing';
import { DEMO_COLOUR_QUESTION } from './demo-question.js';

/** The question the stand-in asks through Claude Code's AskUserQuestion tool. */
export const OFFLINE_QUESTION = { ...DEMO_COLOUR_QUESTION, multiSelect: false };

export const OFFLINE_NOTE = 'forge-demo-note.md';

type Json = Record<string, unknown>;

/** The name of the tool whose result the newest user message carries (from the assistant turn before it). */
function answeredTool(body: Json | undefined): string | undefined {
  const messages = Array.isArray(body?.messages) ? (body!.messages as Json[]) : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'assistant' || !Array.isArray(m.content)) continue;
    const use = (m.content as Json[]).findLast((b) => b?.type === 'tool_use');
    return typeof use?.name === 'string' ? use.name : undefined;
  }
  return undefined;
}

/** The newest tool result was an error (e.g. a permission the user denied). */
function resultIsError(body: Json | undefined): boolean {
  const messages = Array.isArray(body?.messages) ? (body!.messages as Json[]) : [];
  const last = messages[messages.length - 1];
  return Array.isArray(last?.content) && (last.content as Json[]).some((b) => b?.type === 'tool_result' && b.is_error);
}

/** The CLI tells the model its working directory in the system prompt; Write needs an absolute path. */
export function workingDirectoryOf(body: unknown): string | undefined {
  const system = JSON.stringify((body as Json | undefined)?.system ?? '');
  // e.g. ` - Primary working directory: /srv/agents/…/workspace\n` (CLI 2.1.197).
  return /working directory: (\/[^"]+?)(?:\\n|")/i.exec(system)?.[1]?.trim();
}

/**
 * The demo's offline stand-in for the Anthropic API: scripted answers, so the real Claude Code CLI runs
 * end to end without an account. A prompt about a question asks one (AskUserQuestion); one about
 * writing or a note writes a file (Write, which the CLI's default permission mode asks about, so the
 * dashboard shows Approve/Deny); anything else lists the workspace (Bash `ls`, read-only: not asked).
 */
export function offlineResponder(): { respond: FakeResponder } {
  return {
    respond: (req: FakeApiRequest): FakeReply => {
      const body = req.body as Json | undefined;
      if (req.hasToolResult) {
        const result = toolResultText(body).trim();
        const tool = answeredTool(body);
        if (resultIsError(body))
          return {
            text: `(offline stand-in model) ${tool ?? 'The tool'} was not allowed: ${result}. I will leave it.`,
          };
        if (tool === 'AskUserQuestion') return { text: `(offline stand-in model) Thanks. ${result}` };
        if (tool === 'Write') return { text: `(offline stand-in model) I wrote ${OFFLINE_NOTE} in your workspace.` };
        return {
          text: `(offline stand-in model) Your workspace holds: ${result.split('\n').join(', ') || 'nothing'}. That is all I can see — I am a scripted stand-in, not Claude.`,
        };
      }
      const prompt = req.lastUserText;
      if (/\bquestion|\bask me\b|\bchoose\b/i.test(prompt))
        return {
          toolUse: { name: 'AskUserQuestion', input: { questions: [OFFLINE_QUESTION] } },
          text: 'I need to ask you something first.',
        };
      const cwd = workingDirectoryOf(body);
      if (/\b(write|note|create|save)\b/i.test(prompt) && cwd)
        return {
          toolUse: {
            name: 'Write',
            input: { file_path: `${cwd}/${OFFLINE_NOTE}`, content: '# A note from the Forge demo\n' },
          },
          text: 'I will write a note into your workspace.',
        };
      return {
        toolUse: { name: 'Bash', input: { command: 'ls', description: 'List the workspace' } },
        text: 'Let me look at your workspace.',
      };
    },
  };
}
