/*
 * Why a walk on the main thread moves its working directory. Each lstat through `/proc/self/fd/N/name`
 * (dir-anchors.ts) makes the kernel resolve procfs's magic link again: measured on this project's 2-core
 * machine, 5.6-6.2 µs per lstat, against 2.3-3.0 µs for the same lstat of a bare name relative to the working
 * directory (100k files; half the CPU time of a 100k-file no-op was lstat). Entering a directory through its
 * descriptor (`chdir("/proc/self/fd/N")`) resolves the link once, and the working directory is then that very
 * directory, wherever it is moved or whatever replaces its path: a bare name is looked up in it exactly as
 * `/proc/self/fd/N/name` would be, so no symlink on the way is ever followed. Only a synchronous walk does this
 * (nothing else runs while the working directory is elsewhere), only where /proc anchors paths at all, and
 * only on the main thread (a worker thread may not chdir); the old directory is entered again through a
 * descriptor held on it, so a renamed or unreachable-by-path working directory is restored all the same.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { anchoredPaths, PROC_FD } from '../engine/dir-anchors.js';
import { forgetEnteredDir } from '../fs/work-dir.js';

export class CwdAnchor {
  private constructor(private readonly home: number) {}

  /** Ready to move the working directory and back; null where it cannot (no /proc, a worker, an unreadable cwd). */
  static begin(): CwdAnchor | null {
    if (!anchoredPaths || process.env.TSYNC_NO_CHDIR === '1') return null;
    let home: number;
    try {
      home = openSync('.', constants.O_RDONLY | constants.O_DIRECTORY);
    } catch {
      return null;
    }
    try {
      // a worker thread throws here (ERR_WORKER_UNSUPPORTED_OPERATION), and so does a cwd that cannot be entered again
      process.chdir(`${PROC_FD}${home}`);
      return new CwdAnchor(home);
    } catch {
      closeSync(home);
      return null;
    }
  }

  /** Makes the directory `dirFdPath` (`/proc/self/fd/N`) the working directory; false if it could not. */
  enter(dirFdPath: Buffer): boolean {
    try {
      process.chdir(dirFdPath.toString('latin1'));
      return true;
    } catch {
      return false;
    }
  }

  /** Back to the working directory of `begin`. */
  end(): void {
    try {
      process.chdir(`${PROC_FD}${this.home}`);
    } finally {
      closeSync(this.home);
      // back where the slice began, which an install may have entered (fs/work-dir.ts): it enters again
      forgetEnteredDir();
    }
  }
}
