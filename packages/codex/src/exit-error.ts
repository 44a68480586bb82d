import { CoreErrorCode, type ProcessExit } from '@forge/core';
import { CodexErrorCode } from './error-codes.js';

/**
 * Why a run ended without `turn.completed` or `turn.failed`, from the exit and what stderr said.
 * The CLI fails before any turn with a sentence on stderr; the ones seen with 0.171.0 get codes.
 */
export function exitError(exit: ProcessExit, stderrTail: string): { code: string; message: string } {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
  const said = stderrTail ? `: ${stderrTail}` : '';
  if (/no rollout found for thread id|thread\/resume failed/.test(stderrTail))
    return { code: CodexErrorCode.SESSION_NOT_FOUND, message: `Codex could not resume the session${said}` };
  if (/Missing optional dependency @openai\/codex-/.test(stderrTail))
    return { code: CodexErrorCode.CODEX_NOT_INSTALLED, message: `The Codex CLI's native binary is missing${said}` };
  if (exit.code === 127)
    return {
      code: CoreErrorCode.PROCESS_SPAWN_FAILED,
      message: `Codex could not be started (exit 127: not found?)${said}`,
    };
  if (/Error loading config|is no longer supported|unexpected argument/.test(stderrTail))
    return { code: CodexErrorCode.CODEX_CONFIG_ERROR, message: `Codex refused its configuration${said}` };
  return { code: CodexErrorCode.PROCESS_EXITED, message: `Codex ${how} without finishing its turn${said}` };
}
