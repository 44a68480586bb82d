import type { PermissionMode } from '@forge/core';
import type { CodexSandbox } from '../args.js';
import type { AskForApproval } from '../gen/v2/AskForApproval.js';
import type { SandboxPolicy } from '../gen/v2/SandboxPolicy.js';

/** What a thread runs under: when Codex asks, what its sandbox allows, and whether Forge answers edits itself. */
export interface AppServerPolicy {
  approvalPolicy: AskForApproval;
  sandbox: CodexSandbox;
  /** File changes inside the run's cwd are accepted without asking (`acceptEdits`). */
  autoAcceptWorkspaceEdits: boolean;
}

/**
 * `permissionMode` → the app server's approval policy and sandbox (README, "Permission modes"):
 * - `default`: `untrusted` — anything but a known read-only command asks; sandbox as configured, else workspace-write.
 * - `acceptEdits`: as `default`, but a file change whose every path lies inside the run's cwd is accepted by
 *   Forge without a `permission.requested`; commands and edits elsewhere still ask.
 * - `bypassPermissions`: `never` asks, no sandbox (`danger-full-access`).
 * - `plan`: `never` asks, `read-only` sandbox, and Codex's own Plan collaboration mode (when a model is known):
 *   writes fail, and the model may ask questions (`request_user_input`, offered only in Plan mode).
 */
export function appServerPolicy(mode: PermissionMode | undefined, sandbox: CodexSandbox | undefined): AppServerPolicy {
  switch (mode) {
    case 'bypassPermissions':
      return { approvalPolicy: 'never', sandbox: 'danger-full-access', autoAcceptWorkspaceEdits: false };
    case 'plan':
      return { approvalPolicy: 'never', sandbox: 'read-only', autoAcceptWorkspaceEdits: false };
    case 'acceptEdits':
      return { approvalPolicy: 'untrusted', sandbox: sandbox ?? 'workspace-write', autoAcceptWorkspaceEdits: true };
    default:
      return { approvalPolicy: 'untrusted', sandbox: sandbox ?? 'workspace-write', autoAcceptWorkspaceEdits: false };
  }
}

/** The per-turn form of a sandbox mode (`turn/start` takes a policy, `thread/start` a mode). */
export function sandboxPolicy(mode: CodexSandbox): SandboxPolicy {
  switch (mode) {
    case 'read-only':
      return { type: 'readOnly', networkAccess: false };
    case 'danger-full-access':
      return { type: 'dangerFullAccess' };
    default:
      return {
        type: 'workspaceWrite',
        writableRoots: [],
        networkAccess: false,
        excludeTmpdirEnvVar: false,
        excludeSlashTmp: false,
      };
  }
}
