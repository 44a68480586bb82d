import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RequestError } from '@agentclientprotocol/sdk';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

/**
 * Opens `path` for an agent, confined to `root` by where the file really is, not by how its path
 * reads: every symlink on the way is resolved and the result must lie inside `realpath(root)`.
 *
 * - The path is normalised as text first (`a/link/..` is `a`), and only that form reaches the
 *   kernel, so `..` after a symlink cannot step out of the root either.
 * - The file opened is the resolved real path, with O_NOFOLLOW (a symlink swapped in for the last
 *   component fails) and O_NONBLOCK (a FIFO cannot hang the call). After the open, the file is
 *   checked again through its descriptor: on Linux, `/proc/self/fd/<fd>` must name the very path
 *   checked (the kernel's own record of what was opened, so a directory on the way swapped for a
 *   symlink between the check and the open is caught whatever order the swaps come in); and
 *   everywhere, the path must still resolve to itself inside the root and name the descriptor's
 *   inode (dev/ino). Without /proc that second check narrows the race but cannot close it: a swap
 *   timed between its two looks could pass.
 * - Only regular files are served.
 * - Writes never truncate before those checks, create missing directories one at a time (each
 *   checked) rather than `mkdir -p` through whatever links are there, create new files with
 *   O_EXCL, and refuse a file with more than one hard link: a hard link is the file itself, and
 *   no path tells one that leads outside the root apart.
 *
 * Limits, honestly: a hard link inside the root to a file outside it is read (pnpm's
 * node_modules are hard links to its store; making such a link needs rights to the file
 * already). If a directory is swapped during a write that creates files or directories, an empty
 * new file or directory may be left where the swapped link pointed; nothing is ever written to it,
 * and no existing file outside is opened for writing past the checks, let alone truncated.
 */
export async function openConfined(root: string, path: string, mode: 'read' | 'write'): Promise<FileHandle> {
  const target = resolve(path);
  const realRoot = await realpath(root).catch(() => {
    throw RequestError.invalidParams(undefined, `the session's directory does not exist: ${root}`);
  });
  if (!inside(realRoot, target) && !inside(resolve(root), target)) throw outside(path);
  const found = await resolveExisting(target);
  if (!inside(realRoot, found.real)) throw outside(path);
  if (found.rest.length === 0) {
    const fh = await open(found.real, (mode === 'read' ? O_RDONLY : O_WRONLY) | O_NOFOLLOW | O_NONBLOCK).catch(
      (error: NodeJS.ErrnoException) => {
        // ELOOP: the last component became a symlink since realpath saw it.
        if (error.code === 'ELOOP') throw changed(path);
        // EISDIR: a directory opened for writing; ENXIO: a FIFO with no reader opened for writing.
        if (error.code === 'EISDIR' || error.code === 'ENXIO') throw notRegular(path);
        throw error;
      },
    );
    return checked(fh, found.real, realRoot, path, mode);
  }
  if (mode === 'read') throw missing(path);
  let dir = found.real;
  for (const name of found.rest.slice(0, -1)) {
    const next = join(dir, name);
    await mkdir(next).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    // Whatever is there now (made here, or by someone else meanwhile) must be a real directory inside.
    if ((await realpath(next)) !== next || !inside(realRoot, next)) throw outside(path);
    dir = next;
  }
  const file = join(dir, found.rest.at(-1)!);
  const fh = await open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, 0o666).catch(
    (error: NodeJS.ErrnoException) => {
      // A file (or a link) appeared there since the look: take it for a race, not for a file to overwrite.
      if (error.code === 'EEXIST') throw changed(path);
      throw error;
    },
  );
  return checked(fh, file, realRoot, path, mode);
}

/** The real path of `target`, or of its deepest existing ancestor with the names still to create. */
async function resolveExisting(target: string): Promise<{ real: string; rest: string[] }> {
  const rest: string[] = [];
  let at = target;
  for (;;) {
    try {
      return { real: await realpath(at), rest };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      // A dangling symlink is not missing: it names a place, maybe outside, which is where a write would land.
      const link = await lstat(at).catch(() => undefined);
      if (link?.isSymbolicLink()) {
        const to = await resolveExisting(resolve(dirname(at), await readlink(at)));
        return { real: to.real, rest: [...to.rest, ...rest] };
      }
      const up = dirname(at);
      if (up === at) throw error;
      rest.unshift(basename(at));
      at = up;
    }
  }
}

async function checked(
  fh: FileHandle,
  file: string,
  realRoot: string,
  path: string,
  mode: 'read' | 'write',
): Promise<FileHandle> {
  try {
    // Linux names the file a descriptor was opened on: one look, no race with a swap.
    const kernel =
      process.platform === 'linux' ? await readlink(`/proc/self/fd/${fh.fd}`).catch(() => undefined) : undefined;
    if (kernel !== undefined && kernel !== file) throw changed(path);
    // Elsewhere (and as well): the path still resolves to itself and names the descriptor's inode.
    // Two looks, so a swap timed between them could pass; /proc/self/fd is what closes that.
    const opened = await fh.stat();
    const now = await lstat(file).catch(() => undefined);
    const real = await realpath(file).catch(() => undefined);
    if (!now || real !== file || !inside(realRoot, file) || now.dev !== opened.dev || now.ino !== opened.ino) {
      throw changed(path);
    }
    if (!opened.isFile()) throw notRegular(path);
    if (mode === 'write' && opened.nlink > 1) {
      throw RequestError.invalidParams(
        undefined,
        `refusing to write a file with more than one hard link (it may be a file outside the session's directory): ${path}`,
      );
    }
    return fh;
  } catch (error) {
    await fh.close();
    throw error;
  }
}

const inside = (root: string, p: string): boolean => {
  const rel = relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
};

const outside = (path: string) =>
  RequestError.invalidParams(undefined, `path is outside the session's directory: ${path}`);
const changed = (path: string) =>
  RequestError.invalidParams(undefined, `path changed while it was opened (a symlink swapped in?): ${path}`);
const notRegular = (path: string) => RequestError.invalidParams(undefined, `not a regular file: ${path}`);
const missing = (path: string) => RequestError.resourceNotFound(path);
