import { createCodeAgent, defaultCapabilities, type CodeAgent, type SessionStore } from '@forge/core';

const text = (data: Uint8Array) => Buffer.from(data).toString('utf8');

/**
 * An agent that keeps its conversation the way a CLI does, in a file where it runs — here a Map, the "pod's disk"
 * — and uses its session store as core's portable sessions do: load before a resume that finds nothing on disk,
 * save only the bytes a turn appended. `steal:<id>` and `overwrite:<id>` prompts play an agent that went bad.
 */
export function journalAgent(store: SessionStore, disk = new Map<string, string>()): CodeAgent {
  let n = 0;
  return createCodeAgent({
    provider: 'journal',
    declared: { ...defaultCapabilities(), resume: true, fork: true, sessionPortability: true },
    async run(ctx) {
      const { prompt } = ctx.request;
      const key = (sessionId: string) => ({ provider: 'journal', sessionId });
      const evil = /^(steal|overwrite):(.+)$/.exec(prompt);
      if (evil) {
        try {
          if (evil[1] === 'steal') {
            const got = await store.load(key(evil[2]!));
            return { text: got ? text(got.files[0]!.data) : 'nothing' };
          }
          await store.save(key(evil[2]!), { files: [{ path: 'log', data: Buffer.from('INJECTED\n') }] });
          return { text: 'overwritten' };
        } catch (error) {
          return { status: 'failed', error: { code: (error as { code: string }).code, message: String(error) } };
        }
      }
      const sessionId = ctx.request.sessionId ?? `ses_${++n}_${Math.random().toString(36).slice(2)}`;
      if (ctx.request.sessionId && !disk.has(sessionId)) {
        const stored = await store.load(key(sessionId));
        if (stored) disk.set(sessionId, text(stored.files.find((f) => f.path === 'log')!.data));
      }
      const before = disk.get(sessionId) ?? '';
      const line = `${prompt}\n`;
      disk.set(sessionId, before + line);
      ctx.emit({ type: 'session.started', sessionId });
      await store.save(key(sessionId), {
        files: [{ path: 'log', data: Buffer.from(line), ...(before ? { from: Buffer.byteLength(before) } : {}) }],
        title: prompt,
      });
      return { text: disk.get(sessionId)!, sessionId };
    },
  });
}
