import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { RequestError } from '@agentclientprotocol/sdk';
import { openConfined } from './confined-file.js';

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

/** Refuses a relative path, and one outside the session's root as text (`..`, another absolute path). */
function checkPath(path: string, sessionId: string, options: LocalFileSystemOptions): string | undefined {
  if (!isAbsolute(path)) throw RequestError.invalidParams(undefined, `path must be absolute: ${path}`);
  if (!options.root) return undefined;
  const root = options.root(sessionId);
  const rel = root === undefined ? '..' : relative(resolve(root), resolve(path));
  if (root === undefined || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw RequestError.invalidParams(undefined, `path is outside the session's directory: ${path}`);
  }
  return root;
}

/**
 * Client file access on the machine where Forge runs. Note that with a runner that starts the agent
 * elsewhere (a pod over exec) this is the wrong machine: leave the fs capability off there.
 *
 * With `root`, a path is confined by where the file really is (see `openConfined`): symlinks and
 * `..` that lead out of the root are refused, and so is a write to a file with several hard links.
 */
export function localFileSystem(options: LocalFileSystemOptions = {}): AcpFileSystem {
  return {
    async readTextFile({ sessionId, path, line, limit }) {
      const root = checkPath(path, sessionId, options);
      let text: string;
      try {
        if (root === undefined) text = await readFile(path, 'utf8');
        else {
          const fh = await openConfined(root, path, 'read');
          try {
            text = await fh.readFile('utf8');
          } finally {
            await fh.close();
          }
        }
      } catch (error) {
        const notFound =
          (error as NodeJS.ErrnoException).code === 'ENOENT' ||
          (error instanceof RequestError && error.code === RESOURCE_NOT_FOUND);
        if (notFound) {
          if (options.missingFileAsEmpty) return { content: '' };
          throw error instanceof RequestError ? error : RequestError.resourceNotFound(path);
        }
        throw error;
      }
      if (line == null && limit == null) return { content: text };
      const lines = text.split('\n');
      const start = Math.max(0, (line ?? 1) - 1);
      return { content: lines.slice(start, limit == null ? undefined : start + limit).join('\n') };
    },
    async writeTextFile({ sessionId, path, content }) {
      const root = checkPath(path, sessionId, options);
      if (root === undefined) {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, content, 'utf8');
        return;
      }
      const fh = await openConfined(root, path, 'write');
      try {
        // Only now, the file checked: never truncate what turned out to be somewhere else.
        await fh.truncate(0);
        await fh.writeFile(content, 'utf8');
      } finally {
        await fh.close();
      }
    },
  };
}

/** ACP's "resource not found" error code. */
const RESOURCE_NOT_FOUND = -32002;
