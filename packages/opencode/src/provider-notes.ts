import { opencodeDeclaredCapabilities } from './declared-capabilities.js';

/** How `opencode()` does what it declares, for the provider tables `pnpm docs` writes (README, architecture). */
export const opencodeProviderNotes = {
  provider: '`opencode`',
  package: '@forge/opencode',
  capabilities: opencodeDeclaredCapabilities(),
  notes: {
    resume:
      'its session id; `fork` through `POST /session/:id/fork`; with a `sessionStore` and an owned `server`, the session export moves to a server that lacks it (`opencode import`)',
    cancel: "the server's abort endpoint",
    permissionReplies: '`permission.asked`',
    questions: "the model's `question` tool",
    usage: 'tokens and cost per message',
    answers: '`POST /permission/:id/reply`; `POST /question/:id/reply` (a cancel rejects waiting questions)',
  },
};
