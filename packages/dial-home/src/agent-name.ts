import { ValidationError } from '@forge/core';

/** What an agent may be called (it becomes a provider name on the platform): 1–63 of letters, digits, ".", "_", "-". */
export const AGENT_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

/** Throws INVALID_AGENT_NAME unless `name` matches AGENT_NAME. */
export function checkAgentName(name: string): void {
  if (!AGENT_NAME.test(name)) {
    throw new ValidationError('INVALID_AGENT_NAME', `"${name}" is not a valid agent name`, [
      { path: 'name', code: 'INVALID_AGENT_NAME', message: 'letters, digits, ".", "_" and "-", at most 63' },
    ]);
  }
}
