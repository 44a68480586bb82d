import { create } from '@bufbuild/protobuf';
import {
  ForgeError,
  type SessionFile,
  type SessionFilePatch,
  type SessionInfo,
  type SessionSnapshot,
} from '@forge/core';
import {
  SessionFilePatchSchema,
  SessionInfoSchema,
  type SessionFilePatch as ProtoFilePatch,
  type SessionInfo as ProtoInfo,
} from './gen/forge/agent/v1/agent_pb.js';

/**
 * Most file bytes in one SessionCall or SessionReply: well under the 4 MiB a server or hub reads by default, so a
 * 64 MiB session crosses the link as many messages rather than one that is refused.
 */
export const DEFAULT_SESSION_PART_BYTES = 1 << 20;

/**
 * Splits patches into groups of at most `maxBytes` file bytes each, in order. A file cut in pieces keeps its
 * meaning: the first piece starts where the patch did (a replace, or an append), later ones append after it.
 */
export function sessionParts(files: readonly SessionFilePatch[], maxBytes: number): SessionFilePatch[][] {
  const parts: SessionFilePatch[][] = [];
  let part: SessionFilePatch[] = [];
  let bytes = 0;
  const flush = () => {
    if (part.length) parts.push(part);
    part = [];
    bytes = 0;
  };
  for (const file of files) {
    let offset = 0;
    do {
      if (bytes >= maxBytes) flush();
      const take = Math.min(file.data.length - offset, maxBytes - bytes);
      const from = (file.from ?? 0) + offset;
      part.push({
        path: file.path,
        data: file.data.subarray(offset, offset + take),
        ...(offset > 0 || file.from !== undefined ? { from } : {}),
      });
      bytes += take;
      offset += take;
    } while (offset < file.data.length);
  }
  flush();
  return parts.length ? parts : [[]];
}

export const patchToProto = (p: SessionFilePatch): ProtoFilePatch =>
  create(SessionFilePatchSchema, { path: p.path, data: p.data, ...(p.from !== undefined ? { from: p.from } : {}) });

export const patchFromProto = (p: ProtoFilePatch): SessionFilePatch => ({
  path: p.path,
  data: p.data,
  ...(p.from !== undefined ? { from: p.from } : {}),
});

export const infoToProto = (i: SessionInfo): ProtoInfo =>
  create(SessionInfoSchema, {
    provider: i.provider,
    sessionId: i.sessionId,
    ...(i.cwd !== undefined ? { cwd: i.cwd } : {}),
    ...(i.title !== undefined ? { title: i.title } : {}),
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
    size: i.size,
  });

export const infoFromProto = (i: ProtoInfo | undefined): SessionInfo => ({
  provider: i?.provider ?? '',
  sessionId: i?.sessionId ?? '',
  ...(i?.cwd !== undefined ? { cwd: i.cwd } : {}),
  ...(i?.title !== undefined ? { title: i.title } : {}),
  createdAt: i?.createdAt ?? '',
  updatedAt: i?.updatedAt ?? '',
  size: i?.size ?? 0,
});

/** Puts a snapshot's parts back together; a piece that does not continue its file is a broken link. */
export function joinSessionParts(info: SessionInfo, patches: readonly SessionFilePatch[]): SessionSnapshot {
  const files = new Map<string, Uint8Array[]>();
  const sizes = new Map<string, number>();
  for (const p of patches) {
    const at = p.from ?? 0;
    if (at === 0) {
      files.set(p.path, [p.data]);
      sizes.set(p.path, p.data.length);
      continue;
    }
    if (sizes.get(p.path) !== at)
      throw new ForgeError('SESSION_PARTS_BROKEN', `a part of ${p.path} does not continue it (at ${at})`, 'transport');
    files.get(p.path)!.push(p.data);
    sizes.set(p.path, at + p.data.length);
  }
  const out: SessionFile[] = [...files].map(([path, chunks]) => ({ path, data: Buffer.concat(chunks) }));
  return { ...info, files: out };
}
