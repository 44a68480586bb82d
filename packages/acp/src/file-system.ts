import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { RequestError } from '@agentclientprotocol/sdk';

/** What the client does for an agent's `fs/read_text_file` and `fs/write_text_file`. */
export interface AcpFileSystem {
  readTextFile(params: {
    sessionId: string;
    path: string;
    line?: number | null;
    limit?: number | null;
  }): Promise<{ content: string }>;
  writeTextFile(params: { sessionId: string; path: string; content: string }): Promise<void>;
}

export interface LocalFileSystemOptions {
  /**
   * Answer a read of a missing file with empty content instead of the protocol's "resource not
   * found" error. Gemini CLI 0.61 needs it to create new files through the client: it only
   * recognises a missing file by an ENOENT `Error`, never by a JSON-RPC error.
   */
  missingFileAsEmpty?: boolean;
  /**
   * The directory a session may touch (its cwd, as `acpAgent` passes it); paths outside it are refused.
   * Without it any absolute path is served: the agent could read or write any file Forge can.
   */
  root?: (sessionId: string) => string | undefined;
}

/** Refuses a path outside the session's root (`..`, another absolute path). Symlinks are not followed here. */
function checkPath(path: string, sessionId: string, options: LocalFileSystemOptions): void {
  if (!isAbsolute(path)) throw RequestError.invalidParams(undefined, `path must be absolute: ${path}`);
  if (!options.root) return;
  const root = options.root(sessionId);
  const rel = root === undefined ? '..' : relative(resolve(root), resolve(path));
  if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) {
    throw RequestError.invalidParams(undefined, `path is outside the session's directory: ${path}`);
  }
}

/**
 * Client file access on the machine where Forge runs. Note that with a runner that starts the agent
 * elsewhere (a pod over exec) this is the wrong machine: leave the fs capability off there.
 */
export function localFileSystem(options: LocalFileSystemOptions = {}): AcpFileSystem {
  return {
    async readTextFile({ sessionId, path, line, limit }) {
      checkPath(path, sessionId, options);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          if (options.missingFileAsEmpty) return { content: '' };
          throw RequestError.resourceNotFound(path);
        }
        throw error;
      }
      if (line == null && limit == null) return { content: text };
      const lines = text.split('\n');
      const start = Math.max(0, (line ?? 1) - 1);
      return { content: lines.slice(start, limit == null ? undefined : start + limit).join('\n') };
    },
    async writeTextFile({ sessionId, path, content }) {
      checkPath(path, sessionId, options);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content, 'utf8');
    },
  };
}
