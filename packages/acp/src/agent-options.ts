import type { ClientCapabilities, McpServer } from '@agentclientprotocol/sdk';
import type { AgentPolicyOptions, CliProcessOptions, PermissionMode, RunOptions } from '@forge/core';
import type { AcpFileSystem } from './file-system.js';

/**
 * What `acpAgent` takes: where its one process runs and what it starts with (`runner`, `env`, `passEnv`, `cwd`:
 * core's `CliProcessOptions`, documented there) and what only ACP has.
 */
export interface AcpAgentOptions extends RunOptions, CliProcessOptions, AgentPolicyOptions {
  /** The agent program, e.g. `gemini` (with `args: ['--acp']`). */
  command: string;
  args?: readonly string[];
  /** Start from what the runner passes on (a local runner: a minimal allow-list) or from `env` alone. */
  inheritEnv?: boolean;
  /** The provider name in events and the registry. Default `acp`. */
  name?: string;
  /**
   * What the client offers the agent. Default: nothing (`fs` off, `terminal` off), so the agent
   * reads, writes and runs commands itself, where it runs. Offering `fs` makes Forge read and
   * write files for the agent on the machine where Forge runs (`fileSystem`), which is the wrong
   * machine for a pod; Gemini 0.61 also cannot create new files through it (see README).
   */
  clientCapabilities?: ClientCapabilities;
  /** Serves `fs/*` when `clientCapabilities.fs` is on. Default: `localFileSystem()` limited to each session's cwd. */
  fileSystem?: AcpFileSystem;
  /** MCP servers every session gets. */
  mcpServers?: McpServer[];
  /** Model when the request names none (set with `session/set_model` or a `model` config option). */
  model?: string;
  /** Permission mode when the request names none. */
  permissionMode?: PermissionMode;
  /** Agent mode id for each Forge permission mode, where the names differ (Gemini: `acceptEdits` → `autoEdit`). */
  modes?: Partial<Record<PermissionMode, string>>;
  /** How a known session is continued in a new process: `session/resume` (no replay) when offered, else `session/load`. */
  resumeWith?: 'auto' | 'load' | 'resume';
  /**
   * After a `session/load` response, updates keep counting as history replay until none has come
   * for this long. Gemini streams part of the history after its response. Default 0.
   */
  loadReplayQuietMs?: number;
  /** Call `authenticate` with this method after `initialize`. Default: none (keys come from env). */
  authMethodId?: string;
  /** Bound on starting the process and its `initialize`. Default 60 s. */
  initializeTimeoutMs?: number;
  /** On close: how long the agent may take to exit after stdin closes, then after SIGTERM. Default 2 s. */
  closeGraceMs?: number;
  /** After a cancel, how long the turn may take to end before the run stops waiting for the agent. Default 5 s. */
  cancelWaitMs?: number;
  /** Characters of stderr kept for the error of a process that died. Default 4,000. */
  stderrTailChars?: number;
  /** `clientInfo` sent in `initialize`. */
  clientInfo?: { name: string; version: string };
}
