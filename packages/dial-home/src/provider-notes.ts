/**
 * What the hub's agent for a dialled-in agent relays, for the provider tables `pnpm docs` writes (README,
 * architecture): it declares nothing of its own; its `capabilities()` are the ones the agent sent when it attached.
 */
export const dialHomeProviderNotes = {
  provider: 'a remote agent (dial-home, hub side)',
  package: '@forge/dial-home',
  capabilities: 'relayed' as const,
  notes: {
    resume:
      "with the hub's `sessionStore`, the agent's session files are kept in it (session calls on the Attach stream)",
    cancel: 'a cancel command on the Attach stream',
    usage: 'relayed',
    answers:
      "the same commands on the agent's Attach stream (`agent.<id>.run.<run>.permission` / `.answer` / `.steer`), acknowledged by the agent",
  },
};
