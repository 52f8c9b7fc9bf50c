import { constants, type BigIntStats } from 'node:fs';
import { lstat, lutimes, open, rename, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { isRacy } from '../core/stat-cache.js';
import type { Entry, Expectation, ScannedEntry, StatId } from '../core/types.js';
import { errCode, nowNs, statIdOf } from '../fs/stat.js';
import { streamingHash } from '../hash/xxhash.js';
import { assertExpected, StaleTargetError } from './guards.js';
import { tempName } from './temp-name.js';

/** The source could not be opened: a problem of the side copied from, not of the target. */
export class SourceReadError extends Error {
  constructor(
    message: string,
    readonly errno: string,
  ) {
    super(message);
  }
}

/** The source changed while it was read: the copy is thrown away and the path is not recorded. */
export class SourceChangedError extends Error {
  readonly code = 'SOURCE_CHANGED';
}

export interface CopyRequest {
  readonly sourceAbs: Buffer;
  readonly targetDirAbs: Buffer;
  readonly targetAbs: Buffer;
  readonly source: ScannedEntry;
  readonly expect: Expectation;
  /** A reusable read buffer owned by the caller for the duration of the copy. */
  readonly buffer: Buffer;
  /** For messages. */
  readonly label: string;
  /** Called right before the rename: the last chance to refuse (ancestor checks). */
  readonly beforeRename: () => Promise<void>;
}

export interface CopyResult {
  readonly entry: Entry;
  readonly source: ScannedEntry;
  readonly target: ScannedEntry;
  readonly bytes: number;
}

const SLASH = Buffer.of(0x2f);

/**
 * Copies a regular file atomically: the bytes go to a 0600 temp file in the target's directory while
 * being hashed, mode and times are set on the temp file, and only then is it renamed over the target.
 * A crash at any instant leaves the old file or the new one at the final path, never a mix.
 *
 * The source is opened once (O_NOFOLLOW) and checked three times: against the scan before reading
 * (changed since: stale), and by fstat after reading (changed while read: SourceChangedError). When its
 * ctime is too recent for the coarse kernel clock to tell (see stat-cache.ts) it is also re-hashed.
 */
export async function copyFileAtomic(req: CopyRequest): Promise<CopyResult> {
  const src = await open(req.sourceAbs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((e: unknown) => {
    if (errCode(e) === 'ELOOP') throw new StaleTargetError(`${req.label}: the source became a symlink since the scan`);
    throw new SourceReadError(`${req.label}: cannot read (${errCode(e)})`, errCode(e));
  });
  try {
    const before = await src.stat({ bigint: true });
    const beforeObservedAt = nowNs();
    if (!before.isFile() || !sameStat(statIdOf(before), req.source.stat)) {
      throw new StaleTargetError(`${req.label}: the source changed since the scan`);
    }
    const tmpAbs = Buffer.concat([req.targetDirAbs, SLASH, Buffer.from(tempName(), 'latin1')]);
    const tmp = await open(tmpAbs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    let renamed = false;
    try {
      const { hash, bytes } = await pump(src, tmp, req.buffer);
      await assertSourceSettled(src, before, beforeObservedAt, hash, req);
      const mode = Number(before.mode) & 0o7777;
      await tmp.chmod(mode);
      await tmp.utimes(secondsOf(before.atimeNs), secondsOf(before.mtimeNs));
      await tmp.close();
      await req.beforeRename();
      await assertExpected(req.targetAbs, req.expect, req.label);
      await rename(tmpAbs, req.targetAbs);
      renamed = true;
      const after = await lstat(req.targetAbs, { bigint: true });
      const entry: Entry = { kind: 'file', size: bytes, mtimeNs: before.mtimeNs, mode, hash };
      return {
        entry,
        source: { entry, stat: statIdOf(before), observedAtNs: beforeObservedAt },
        target: { entry, stat: statIdOf(after), observedAtNs: nowNs() },
        bytes,
      };
    } finally {
      if (!renamed) {
        await tmp.close().catch(() => undefined);
        await unlink(tmpAbs).catch(() => undefined);
      }
    }
  } finally {
    await src.close();
  }
}

async function pump(src: FileHandle, dst: FileHandle, buffer: Buffer): Promise<{ hash: string; bytes: number }> {
  const h = streamingHash();
  let bytes = 0;
  for (;;) {
    const { bytesRead } = await src.read(buffer, 0, buffer.length, bytes);
    if (bytesRead === 0) break;
    const chunk = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    h.update(chunk);
    let written = 0;
    while (written < bytesRead) {
      const { bytesWritten } = await dst.write(chunk, written, bytesRead - written, bytes + written);
      written += bytesWritten;
    }
    bytes += bytesRead;
  }
  return { hash: h.digestHex(), bytes };
}

/**
 * Proves that what was read is one consistent version of the source. A changed stat means it was
 * written to meanwhile. On kernels without fine-grained timestamps a write in the same clock tick as
 * our first stat leaves ctime unchanged, so a source whose ctime is that recent is also read a second
 * time and must hash the same (no sleeping: watch mode copies fresh files, and latency matters).
 */
async function assertSourceSettled(src: FileHandle, before: BigIntStats, observedAt: bigint, hash: string, req: CopyRequest): Promise<void> {
  const changed = (st: BigIntStats): boolean =>
    st.ctimeNs !== before.ctimeNs || st.mtimeNs !== before.mtimeNs || st.size !== before.size || st.ino !== before.ino;
  if (changed(await src.stat({ bigint: true }))) throw new SourceChangedError(`${req.label}: the source changed while it was copied`);
  if (!isRacy(before.ctimeNs, observedAt)) return;
  const again = streamingHash();
  let pos = 0;
  for (;;) {
    const { bytesRead } = await src.read(req.buffer, 0, req.buffer.length, pos);
    if (bytesRead === 0) break;
    again.update(bytesRead === req.buffer.length ? req.buffer : req.buffer.subarray(0, bytesRead));
    pos += bytesRead;
  }
  if (again.digestHex() !== hash || changed(await src.stat({ bigint: true }))) {
    throw new SourceChangedError(`${req.label}: the source changed while it was copied`);
  }
}

export interface SymlinkRequest {
  readonly targetDirAbs: Buffer;
  readonly targetAbs: Buffer;
  readonly linkTarget: Buffer;
  readonly mtimeNs: bigint;
  readonly expect: Expectation;
  readonly label: string;
  readonly beforeRename: () => Promise<void>;
}

/** Creates the link under a temp name and renames it over the target: links are copied as links. */
export async function copySymlinkAtomic(req: SymlinkRequest): Promise<ScannedEntry> {
  const tmpAbs = Buffer.concat([req.targetDirAbs, SLASH, Buffer.from(tempName(), 'latin1')]);
  await symlink(req.linkTarget, tmpAbs);
  let renamed = false;
  try {
    await lutimes(tmpAbs, secondsOf(req.mtimeNs), secondsOf(req.mtimeNs)).catch(() => undefined);
    await req.beforeRename();
    await assertExpected(req.targetAbs, req.expect, req.label);
    await rename(tmpAbs, req.targetAbs);
    renamed = true;
  } finally {
    if (!renamed) await unlink(tmpAbs).catch(() => undefined);
  }
  const after = await lstat(req.targetAbs, { bigint: true });
  return {
    entry: { kind: 'symlink', target: req.linkTarget.toString('latin1'), mtimeNs: after.mtimeNs },
    stat: statIdOf(after),
    observedAtNs: nowNs(),
  };
}

function sameStat(a: StatId, b: StatId): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * Seconds as a double for utimes. Node takes no integer nanoseconds, and libuv truncates what it gets
 * to whole microseconds; aiming at the middle of the source's microsecond makes that truncation land
 * exactly on it, whatever the double's rounding. Sub-microsecond digits cannot be set.
 */
export function secondsOf(ns: bigint): number {
  const us = ns >= 0n ? ns / 1000n : -((-ns + 999n) / 1000n); // floor, also before 1970
  return (Number(us) + 0.5) / 1e6;
}
