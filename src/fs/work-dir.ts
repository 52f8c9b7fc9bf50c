/*
 * Why the walk and a synchronous install move the working directory (issue 11). Every call through
 * `/proc/self/fd/N/name` (engine/dir-anchors.ts) makes the kernel resolve procfs's magic link again. Measured on
 * this project's 2-core machine:
 * - an lstat took 5.6-6.2 µs that way against 2.3-3.0 µs by a bare name from inside the directory (100k files;
 *   half the CPU time of a 100k-file no-op was lstat);
 * - installing a small file names entries of its directory four times (the temp file's creation, the stale
 *   check, both names of the rename): 35-42 µs per file that way against 26-27 µs by bare names (tmpfs, 10k files
 *   in 100 directories).
 * Entering the directory through its descriptor (`chdir("/proc/self/fd/N")`) resolves the link once for all the
 * entries looked up there, and a bare name is then looked up in that very directory, wherever it is moved or
 * whatever replaces its path: the same guarantee as the descriptor path, so no symlink on the way is followed.
 *
 * The rules that keep this safe:
 * - a bare name is used only by synchronous code, right after `enterDirOf` said yes, in the same synchronous
 *   stretch (one directory's names in a walk, one install from its temp file to its rename): nothing else can
 *   move the working directory in between, and nothing else in tsync calls process.chdir;
 * - which directory the working directory is, is known by the identity of the descriptor path that entered it
 *   (one Buffer per opened descriptor in DirAnchors): a directory opened again is entered again;
 * - everything else tsync names by an absolute path (roots, the state dir: state-location.ts), so a working
 *   directory left inside a tree changes nothing for it; and it is put back at the next turn of the event
 *   loop (or by `restoreWorkDir`), through a descriptor held on it (its path may be gone), so timers, I/O
 *   callbacks and child processes see the one the user chose.
 * Not used where /proc does not anchor paths, in a worker thread (which may not chdir), or with
 * TSYNC_NO_CHDIR=1 (a testing switch).
 */
import { closeSync, constants, openSync } from 'node:fs';
import { errCode } from './stat.js';

const PROC_FD = '/proc/self/fd/';

/** The directory the process started this stretch in, held open so that it is entered again by descriptor. */
let home: number | null = null;
/** The descriptor path the working directory was last moved to (identity, not content), null when at home. */
let current: Buffer | null = null;
let restoreQueued = false;
/** False once moving is known not to work here (a worker thread, an unopenable working directory). */
let usable = true;

/**
 * Makes the directory that `dirFdPath` (a `/proc/self/fd/N` path of an open directory) names the working
 * directory, unless it already is. True when bare names now resolve inside it; false when it could not be
 * done (the caller then uses descriptor paths).
 */
export function enterDirOf(dirFdPath: Buffer): boolean {
  if (current === dirFdPath) return true;
  if (!usable || process.env.TSYNC_NO_CHDIR === '1' || !isProcFdPath(dirFdPath)) return false;
  if (home === null) {
    try {
      home = openSync('.', constants.O_RDONLY | constants.O_DIRECTORY);
    } catch {
      usable = false;
      return false;
    }
  }
  try {
    process.chdir(dirFdPath.toString('latin1'));
  } catch (e) {
    // a worker thread may not chdir at all; a directory that cannot be entered now is simply not entered
    if (errCode(e) === 'ERR_WORKER_UNSUPPORTED_OPERATION') usable = false;
    restoreWorkDir();
    return false;
  }
  current = dirFdPath;
  if (!restoreQueued) {
    restoreQueued = true;
    setImmediate(() => {
      restoreQueued = false;
      restoreWorkDir();
    });
  }
  return true;
}

/** Back to the working directory of before the first `enterDirOf` (entered by descriptor: its path may be gone). */
export function restoreWorkDir(): void {
  if (home === null) return;
  const fd = home;
  home = null;
  current = null;
  try {
    process.chdir(`${PROC_FD}${fd}`);
  } catch {
    // nothing better to go back to; tsync itself names no path relative to it
  } finally {
    closeSync(fd);
  }
}

function isProcFdPath(p: Buffer): boolean {
  return p.length > PROC_FD.length && p.toString('latin1', 0, PROC_FD.length) === PROC_FD;
}
