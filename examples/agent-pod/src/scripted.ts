import { createCodeAgent, defaultCapabilities, type CodeAgent } from '@forge/core';

/**
 * A stand-in provider for smoke tests of the pod and its wiring: it answers with the prompt.
 * A prompt containing "hang" keeps the run going until it is cancelled or times out.
 */
export function scriptedPodAgent(): CodeAgent {
  return createCodeAgent({
    provider: 'scripted',
    declared: defaultCapabilities({ textDeltas: true, models: ['echo'] }),
    async run(ctx) {
      const sessionId = ctx.request.sessionId ?? `ses_${ctx.runId}`;
      ctx.emit({ type: 'session.started', sessionId, model: 'echo', cwd: ctx.request.cwd });
      const text = `echo: ${ctx.request.prompt}`;
      for (const word of text.split(/(?<= )/))
        if (!ctx.emit({ type: 'text.delta', text: word, messageId: 'm1' })) await ctx.drained();
      if (ctx.request.prompt.includes('hang')) {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      }
      ctx.emit({ type: 'message', text, messageId: 'm1' });
      return { text, turns: 1 };
    },
  });
}
