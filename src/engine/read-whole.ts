import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isRacy } from '../core/stat-cache.js';
import type { Entry, ScannedEntry } from '../core/types.js';
import { errCode, nowNs, statIdOf } from '../fs/stat.js';
import { hashBytes } from '../hash/xxhash.js';
import { changedSince, sameSource, SourceChangedError, sourceOpenError } from './copy-file.js';
import { StaleTargetError } from './guards.js';
import type { ReadTrailer } from './stream-copy.js';

/** A small file read whole for a batched copy (engine/batch-copy.ts): its bytes and what was read. */
export interface WholeFile {
  readonly bytes: Buffer;
  readonly trailer: ReadTrailer;
}

/**
 * Reads a small file (descriptor-anchored `sourceAbs`, opened O_NOFOLLOW) whole, with synchronous calls,
 * under the same checks as a streamed read (stream-copy.ts openReadStream): changed since the scan is
 * stale; changed while read (fstat after; a second read that must hash the same when the ctime is too
 * recent to prove anything) is SourceChangedError. Synchronous because a batch holds many of them and a
 * trip through the thread pool per file costs more than the read itself.
 */
export function readWholeFile(sourceAbs: Buffer, scanned: ScannedEntry, label: string, racyWindowNs: bigint): WholeFile {
  let fd: number;
  try {
    fd = openSync(sourceAbs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw sourceOpenError(label, errCode(e));
  }
  try {
    const before = fstatSync(fd, { bigint: true });
    const observedAt = nowNs();
    if (!before.isFile() || !sameSource(statIdOf(before), scanned.stat)) throw new StaleTargetError(`${label}: the source changed since the scan`);
    const changed = (): SourceChangedError => new SourceChangedError(`${label}: the source changed while it was copied`);
    // the size fstat gave: a file that grows or shrinks meanwhile changes its size or ctime, which the fstat after sees
    const size = Number(before.size);
    const bytes = Buffer.allocUnsafe(size);
    let n = 0;
    while (n < size) {
      const got = readSync(fd, bytes, n, size - n, n);
      if (got === 0) throw changed();
      n += got;
    }
    const hash = hashBytes(bytes);
    if (changedSince(fstatSync(fd, { bigint: true }), before)) throw changed();
    if (isRacy(before.ctimeNs, observedAt, racyWindowNs)) {
      const again = Buffer.allocUnsafe(size + 1);
      let m = 0;
      for (let got = -1; got !== 0 && m < again.length; m += got) got = readSync(fd, again, m, again.length - m, m);
      if (hashBytes(again.subarray(0, m)) !== hash || changedSince(fstatSync(fd, { bigint: true }), before)) throw changed();
    }
    const e = scanned.entry;
    const entry: Entry = e.kind === 'file' ? { ...e, size, mtimeNs: before.mtimeNs, mode: Number(before.mode) & 0o7777, hash } : e;
    return { bytes, trailer: { hash, bytes: size, source: { entry, stat: statIdOf(before), observedAtNs: nowNs() } } };
  } finally {
    closeSync(fd);
  }
}
