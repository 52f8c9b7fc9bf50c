import { lstat } from 'node:fs/promises';
import { ancestorsOf, displayPath } from '../core/paths.js';
import type { AbsPath, Expectation, RelPath } from '../core/types.js';
import { toBytes, under } from '../fs/paths.js';
import { lstatOrNullAsync } from '../fs/stat.js';

/** Why an action was not carried out although nothing failed: the target moved on since the scan. */
export class StaleTargetError extends Error {
  readonly code = 'STALE';
}

/** A directory on the way to the target is not a real directory (a symlink, say): never write through it. */
export class UnsafePathError extends Error {
  readonly code = 'UNSAFE_PATH';
}

/**
 * Every directory between the root and the target must be a real directory. A symlink planted there
 * (before or during the run) could point outside the tree, and writing through it would escape.
 */
export async function assertRealAncestors(root: AbsPath, path: RelPath): Promise<void> {
  for (const dir of ancestorsOf(path)) {
    const st = await lstatOrNullAsync(toBytes(under(root, dir)));
    if (st === null) throw new StaleTargetError(`${displayPath(dir)} vanished`);
    if (!st.isDirectory()) throw new UnsafePathError(`${displayPath(dir)} is not a real directory (${st.isSymbolicLink() ? 'a symlink' : 'another kind'}); not writing through it`);
  }
}

/** Right before a write: is the target still what the scan saw? */
export async function assertExpected(abs: Buffer, expect: Expectation, label: string): Promise<void> {
  let st;
  try {
    st = await lstat(abs, { bigint: true });
  } catch (e) {
    if (expect === null && typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT') return;
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
