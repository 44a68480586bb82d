import { relative, sep } from 'node:path';
import { AGENT_ID } from './backend.js';

/**
 * The log key of the local agent whose workspace `cwd` is in (`<dataDir>/<user>/<agent>/workspace/…`), or
 * undefined for a process started elsewhere (a shared server, a version probe).
 */
export function agentKeyOfCwd(dataDir: string, cwd: string | undefined): string | undefined {
  if (!cwd) return undefined;
  const [userId, agentId, workspace] = relative(dataDir, cwd).split(sep);
  if (!userId || userId === '..' || !agentId || !AGENT_ID.test(agentId) || workspace !== 'workspace') return undefined;
  return `${userId}/${agentId}`;
}
