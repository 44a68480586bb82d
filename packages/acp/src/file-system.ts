import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { RequestError } from '@agentclientprotocol/sdk';

/** What the client does for an agent's `fs/read_text_file` and `fs/write_text_file`. */
export interface AcpFileSystem {
  readTextFile(params: { path: string; line?: number | null; limit?: number | null }): Promise<{ content: string }>;
  writeTextFile(params: { path: string; content: string }): Promise<void>;
}

export interface LocalFileSystemOptions {
  /**
   * Answer a read of a missing file with empty content instead of the protocol's "resource not
   * found" error. Gemini CLI 0.61 needs it to create new files through the client: it only
   * recognises a missing file by an ENOENT `Error`, never by a JSON-RPC error.
   */
  missingFileAsEmpty?: boolean;
}

/**
 * Client file access on the machine where Forge runs. Note that with a runner that starts the agent
 * elsewhere (a pod over exec) this is the wrong machine: leave the fs capability off there.
 */
export function localFileSystem(options: LocalFileSystemOptions = {}): AcpFileSystem {
  return {
    async readTextFile({ path, line, limit }) {
      if (!isAbsolute(path)) throw RequestError.invalidParams(undefined, `path must be absolute: ${path}`);
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
    async writeTextFile({ path, content }) {
      if (!isAbsolute(path)) throw RequestError.invalidParams(undefined, `path must be absolute: ${path}`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content, 'utf8');
    },
  };
}
