import { lstatSync } from 'node:fs';
import { ancestorsOf, displayPath, isAtOrBelow } from '../core/paths.js';
import type { AbsPath, Expectation, RelPath } from '../core/types.js';
import { toBytes, under } from '../fs/paths.js';
import { errCode, lstatOrNull } from '../fs/stat.js';

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
 * is checked with lstat the first time a run writes below it, then remembered; the run forgets it again
 * when it removes the directory itself. (Node has no openat(2), so no check can close the window between
 * a check and the write that follows; checking once per directory narrows nothing that checking every
 * time would close.)
 */
export class AncestorGuard {
  private readonly verified = new Set<RelPath>();

  constructor(private readonly root: AbsPath) {}

  assert(path: RelPath): void {
    for (const dir of ancestorsOf(path)) {
      if (this.verified.has(dir)) continue;
      const st = lstatOrNull(toBytes(under(this.root, dir)));
      if (st === null) throw new StaleTargetError(`${displayPath(dir)} vanished`);
      if (!st.isDirectory()) throw new UnsafePathError(`${displayPath(dir)} is not a real directory (${st.isSymbolicLink() ? 'a symlink' : 'another kind'}); not writing through it`);
      this.verified.add(dir);
    }
  }

  /** A directory the run created itself is real. */
  trust(dir: RelPath): void {
    this.verified.add(dir);
  }

  /** The run removed (or replaced) this path: whatever stands there later must be checked again. */
  forget(path: RelPath): void {
    for (const d of this.verified) if (isAtOrBelow(d, path)) this.verified.delete(d);
  }
}

/** Right before a write: is the target still what the scan saw? */
export function assertExpected(abs: Buffer, expect: Expectation, label: string): void {
  let st;
  try {
    st = lstatSync(abs, { bigint: true });
  } catch (e) {
    if (expect === null && errCode(e) === 'ENOENT') return;
    throw e;
  }
  if (expect === null) throw new StaleTargetError(`${label} appeared since the scan`);
  const kindNow = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'special';
  if (kindNow !== expect.kind) throw new StaleTargetError(`${label} changed kind since the scan`);
  if (st.ino !== expect.ino) throw new StaleTargetError(`${label} was replaced since the scan`);
  // A directory's own times change whenever its listing does (ours included): its inode is its identity.
  if (expect.kind === 'dir') return;
  if (st.ctimeNs !== expect.ctimeNs || st.mtimeNs !== expect.mtimeNs || Number(st.size) !== expect.size) {
    throw new StaleTargetError(`${label} changed since the scan`);
  }
}
