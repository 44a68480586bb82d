/**
 * What `grpcAgent()` relays, for the provider tables `pnpm docs` writes (README, architecture): it declares
 * nothing of its own; its `capabilities()` are the remote agent's.
 */
export const grpcAgentProviderNotes = {
  provider: 'a pod (`grpcAgent`)',
  package: '@forge/transport-grpc',
  capabilities: 'relayed' as const,
  notes: {
    resume: "with a `sessionStore`, the pod's session files are kept in it (session calls on the run's stream)",
    cancel: '`Cancel` over the stream',
    questions: '`AgentCapabilities.questions`; an older server leaves it unset = no',
    usage: 'relayed',
    answers:
      '`permission_reply` / `question_answer` / `steer` on the Connect stream, or the `ReplyPermission` / `AnswerQuestion` / `SteerRun` RPCs beside `Execute`',
  },
};
