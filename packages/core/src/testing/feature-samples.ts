import type { AgentRequestInput } from '../request.js';
import type { RequestFeature } from '../request-features.js';

/** One request field using each feature, as small as a real request would send. */
export const FEATURE_SAMPLES: Record<RequestFeature, Partial<AgentRequestInput>> = {
  // A path, not inline data: every agent takes a link to a file, while inline content is up to its handshake.
  attachments: { attachments: [{ kind: 'file', path: '/tmp/forge-conformance.txt', mimeType: 'text/plain' }] },
  images: { attachments: [{ kind: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' }] },
  systemPrompt: { systemPrompt: 'Be brief.' },
  toolFilter: { allowedTools: ['Read'] },
  maxTurns: { maxTurns: 5 },
  env: { env: { FORGE_CONFORMANCE: '1' } },
  mcpServers: { mcpServers: [{ name: 'conformance', command: 'true' }] },
  structuredOutput: { outputSchema: { type: 'object' } },
  effort: { effort: 'low' },
  approvals: { approvals: { default: 'ask' } },
  questionDeadlines: { questions: { unanswered: { afterMs: 60_000, action: 'cancel' } } },
  budget: { budget: { maxTurns: 10 } },
  fork: { sessionId: 'ses_conformance', fork: true },
};
