import { type BigIntStats, lstatSync } from 'node:fs';
import { ancestorsOf, displayPath, isAtOrBelow } from '../core/paths.js';
import type { AbsPath, Expectation, RelPath } from '../core/types.js';
import { toBytes, under } from '../fs/paths.js';
import { lstatOrNull } from '../fs/stat.js';

/** Why an action was not carried out although nothing failed: the target moved on since the scan. */
export class StaleTargetError extends Error {
  readonly code = 'STALE';
}

/** A directory on the way to the target is not a real directory (a symlink, say): never write through it. */
export class UnsafePathError extends Error {
  readonly code = 'UNSAFE_PATH';
}

/**
 * Every directory between a root and a target must be a real directory: a symlink planted there (before
 * or during the run) could point outside the tree, and writing through it would escape. Each directory
 * is checked with lstat the first time a run touches something below it, and its inode is remembered;
 * the run forgets it again when it removes the directory itself. A check leaves a window between it and
 * the write that follows, so this guard is only the fallback where /proc is missing: on Linux,
 * DirAnchors (dir-anchors.ts) reaches every directory through its parent's descriptor with O_NOFOLLOW,
 * which leaves no such window.
 */
export class AncestorGuard {
  private readonly verified = new Map<RelPath, bigint>();

  constructor(private readonly root: AbsPath) {}

  /** Checks every directory above `path`. */
  assert(path: RelPath): void {
    for (const dir of ancestorsOf(path)) this.verifyDir(dir);
  }

  /** Checks `dir` and every directory above it; returns `dir`'s inode as checked. */
  verifyDir(dir: RelPath): bigint {
    const known = this.verified.get(dir);
    if (known !== undefined) return known;
    this.assert(dir);
    const st = lstatOrNull(toBytes(under(this.root, dir)));
    if (st === null) throw new StaleTargetError(`${displayPath(dir)} vanished`);
    if (!st.isDirectory()) throw new UnsafePathError(`${displayPath(dir)} is not a real directory (${st.isSymbolicLink() ? 'a symlink' : 'another kind'}); not writing through it`);
    this.verified.set(dir, BigInt(st.ino));
    return BigInt(st.ino);
  }

  /** A directory the run created itself is real; `ino` is what it got. */
  trust(dir: RelPath, ino: bigint): void {
    this.verified.set(dir, ino);
  }

  /** The run removed (or replaced) this path: whatever stands there later must be checked again. */
  forget(path: RelPath): void {
    for (const d of this.verified.keys()) if (isAtOrBelow(d, path)) this.verified.delete(d);
  }
}

/** Right before a write: is the target still what the scan saw? */
export function assertExpected(abs: Buffer, expect: Expectation, label: string): void {
  // throwIfNoEntry: an absent target is the common case (an initial copy), and a thrown error costs far more than the call
  const st: BigIntStats | undefined = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
  if (st === undefined) {
    if (expect === null) return;
    throw Object.assign(new Error(`ENOENT: no such file or directory, lstat '${abs.toString('latin1')}'`), { code: 'ENOENT', syscall: 'lstat' });
  }
  if (expect === null) throw new StaleTargetError(`${label} appeared since the scan`);
  const kindNow = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'special';
  if (kindNow !== expect.kind) throw new StaleTargetError(`${label} changed kind since the scan`);
  if (st.ino !== expect.ino) throw new StaleTargetError(`${label} was replaced since the scan`);
  // A directory's own times change whenever its listing does (ours included): its inode is its identity.
  if (expect.kind === 'dir') return;
  // An inode with several names changes its ctime whenever one of its other names is linked, renamed
  // over or trashed, by this very run too (hard links, trash.ts): there, inode, size and mtime must do.
  const ctimeCounts = (expect.nlink ?? 1) <= 1;
  if ((ctimeCounts && st.ctimeNs !== expect.ctimeNs) || st.mtimeNs !== expect.mtimeNs || Number(st.size) !== expect.size) {
    throw new StaleTargetError(`${label} changed since the scan`);
  }
}
