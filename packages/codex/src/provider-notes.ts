import { codexDeclaredCapabilities } from './declared-capabilities.js';

/** How `codex()` does what it declares, for the provider tables `pnpm docs` writes (README, architecture). */
export const codexProviderNotes = {
  provider: '`codex`',
  package: '@forge/codex',
  capabilities: codexDeclaredCapabilities(),
  notes: {
    resume: '`codex exec resume <thread id>`; not with `ephemeral`',
    cancel: 'SIGINT: the CLI stops without a word; Forge ends the run `cancelled` with the thread id',
    permissionReplies:
      '`codex exec` never asks: approval policy `never`, the `read-only` / `workspace-write` / `danger-full-access` sandbox decides',
    textDeltas: '`--json` prints messages whole',
    reasoning: 'reasoning summaries',
    usage: 'tokens per turn (cached and reasoning apart); no cost',
    answers: '—',
  },
};
