/*
 * Where the walk cannot enter a directory (a worker thread may not chdir, fs/work-dir.ts), each entry was
 * looked up through `/proc/self/fd/N/name`, and the kernel resolves procfs's magic link again for each: an
 * lstat took 5.4-5.5 µs that way against 2.9 µs by the directory's absolute path (100k files on tmpfs, in a
 * worker thread; the same on the main thread). The absolute path goes through every directory on the way, and
 * one of them swapped for a symlink would send the lookups elsewhere. So the path is used only while it leads
 * to the very directory the descriptor holds: checked (device and inode) before the directory's names are looked
 * up and again after, and the names are looked up again through the descriptor when it no longer does.
 *
 * Reads only: nothing is ever written or deleted through such a path (the engine's writes go through descriptors,
 * engine/dir-anchors.ts), and what a scan read is checked again against the tree before any write that relies on
 * it (the stale checks, engine/guards.ts). A swap and a swap back within one directory's lookups would go unseen,
 * and is the same as the tree changing between the scan and the run's writes, which those checks are there for.
 */
import { lstatSync, statSync } from 'node:fs';
import type { AbsPath, RelPath } from '../core/types.js';
import { anchoredPaths } from '../engine/dir-anchors.js';
import { toBytes, under } from '../fs/paths.js';
import { textPrefixOf } from './entry-path.js';

/** A directory's absolute path, for as long as it leads to the directory a descriptor holds. */
export interface CheckedDirPath {
  readonly path: Buffer;
  /** `path` as a string when it is ASCII (entry-path.ts), else null. */
  readonly text: string | null;
  /** True while `path` still leads to the descriptor's directory. */
  readonly stillSame: () => boolean;
}

/**
 * Fewer names than this are looked up through the descriptor as before: the checks cost three stats a
 * directory, and save about 2.5 µs a name.
 */
export const CHECKED_PATH_MIN_NAMES = 8;

/** `dir`'s absolute path under `root` if it now leads to the directory `dirFdPath` (`/proc/self/fd/N`) holds, else null. */
export function checkedDirPath(root: AbsPath, dir: RelPath | null, dirFdPath: Buffer): CheckedDirPath | null {
  if (!anchoredPaths) return null; // dirFdPath is a plain path already
  const path = toBytes(dir === null ? root : under(root, dir));
  let held: { dev: bigint; ino: bigint };
  try {
    held = statSync(dirFdPath, { bigint: true });
  } catch {
    return null;
  }
  const leadsThere = (): boolean => {
    try {
      // the root was opened by its path, a symlink on the way followed (dir-anchors.ts); a directory below it never is
      const st = dir === null ? statSync(path, { bigint: true }) : lstatSync(path, { bigint: true });
      return st.isDirectory() && st.ino === held.ino && st.dev === held.dev;
    } catch {
      return false;
    }
  };
  if (!leadsThere()) return null;
  return { path, text: textPrefixOf(path), stillSame: leadsThere };
}
