import { closeSync, constants, fsync, lstatSync, openSync, statSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { fsPromises } from '../fs/lazy-promises.js';
import type { WrittenSide } from '../core/written-paths.js';
import type { AbsPath, RelPath } from '../core/types.js';
import { toBytes } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import { nativeFsyncFds } from '../fs/native-listing.js';
import { DirAnchors, type Place } from './dir-anchors.js';
import { StaleTargetError, UnsafePathError } from './guards.js';

export interface TargetedFlushResult {
  /** Regular files fsynced. */
  readonly files: number;
  /** Directories fsynced. */
  readonly dirs: number;
  /** Paths skipped: vanished, a symlink, a special file, or below a directory that is no longer real. */
  readonly skipped: number;
  /** The first error that left a path unflushed (the caller then falls back to a syncfs), or null. */
  readonly failure: string | null;
}

/**
 * fsyncs exactly the paths `w` names on one side, through directory descriptors (dir-anchors.ts), as
 * the engine reached them: no symlink inside the root is ever followed. Each entry is lstat'ed first
 * and opened O_RDONLY | O_NOFOLLOW | O_NONBLOCK only if it is a regular file or a directory (opening
 * a fifo or a device put there since could block or have side effects). A path replaced since the run
 * wrote it is harmless to fsync; one that vanished needs nothing. Every descriptor is opened first, here
 * (one openat per directory on the way, cached), and then all are fsynced off the main thread (fsyncAll),
 * so a watch loop keeps taking events meanwhile. Where /proc is missing the directories on the way are
 * reached by path (dir-anchors.ts); what could be followed then is only opened read-only and fsynced,
 * never written.
 *
 * Why this is enough where the index used to need a syncfs: see sync/durability.ts.
 */
export async function fsyncWritten(root: AbsPath, w: WrittenSide): Promise<TargetedFlushResult> {
  const anchors = new DirAnchors(root);
  let files = 0;
  let dirs = 0;
  let skipped = 0;
  let failure: string | null = null;
  const opened: Opened[] = [];
  /** Where reaching `path` failed: gone or no longer a real directory on the way is nothing to flush. */
  const unreached = (path: RelPath | null, e: unknown): void => {
    if (e instanceof StaleTargetError || e instanceof UnsafePathError || errCode(e) === 'ENOENT') skipped++;
    else failure ??= `${pathLabel(path)}: ${errCode(e)}`;
  };
  // A directory is fsynced through the descriptor the anchors hold for it (opened O_DIRECTORY | O_NOFOLLOW, so
  // nothing else can stand there): a watch cycle's flush of one file opened each directory twice before, once as
  // the way to its children and once more to fsync it (and lstat'ed it in between).
  const openDir = (path: RelPath | null): void => {
    let pinned: { readonly fd: number; readonly release: () => void } | null;
    try {
      pinned = anchors.descriptorOf(path);
    } catch (e) {
      unreached(path, e);
      return;
    }
    if (pinned === null) openEntry(path);
    else opened.push({ fd: pinned.fd, kind: 'dir', path, done: pinned.release });
  };
  const openEntry = (path: RelPath | null): void => {
    let place: Place;
    try {
      place = path === null ? rootPlace(root) : anchors.place(path);
    } catch (e) {
      unreached(path, e);
      return;
    }
    try {
      const o = openToFlush(place.fdPath, path);
      if (o === null) skipped++;
      else opened.push(o);
    } catch (e) {
      failure ??= `${pathLabel(path)}: ${errCode(e)}`;
    } finally {
      place.release();
    }
  };
  try {
    for (const d of w.dirs) openDir(d);
    for (const p of w.inodes) if (!w.dirs.has(p)) openEntry(p);
    const errors = await fsyncAll(opened.map((o) => o.fd));
    for (const [i, o] of opened.entries()) {
      const error = errors[i] ?? null;
      if (error !== null) failure ??= `${pathLabel(o.path)}: ${error}`;
      else if (o.kind === 'file') files++;
      else dirs++;
    }
  } finally {
    for (const o of opened) o.done();
    anchors.closeAll();
  }
  return { files, dirs, skipped, failure };
}

/** A descriptor opened to be fsynced, and how to give it back (close it, or hand it back to the anchors). */
interface Opened {
  readonly fd: number;
  readonly kind: 'file' | 'dir';
  readonly path: RelPath | null;
  readonly done: () => void;
}

/**
 * Descriptors fsynced in one job per FSYNC_JOB_SIZE of them (native/sync_fs.c fsyncFds), the jobs side by side on
 * libuv's pool: a watch batch's handful is one job, one wake-up of a pool thread and one completion on the main
 * thread, where a job per descriptor cost the main thread 40-45 us each (a CPU profile of a 100k-file watch, issue
 * 11); a long list still runs in parallel. Without the addon, one fs.fsync each, as before.
 */
export const FSYNC_JOB_SIZE = 16;

/** Each descriptor's answer, in order: null, or the error code of the fsync that failed. */
async function fsyncAll(fds: readonly number[]): Promise<(string | null)[]> {
  if (fds.length === 0) return [];
  const batch = nativeFsyncFds();
  if (batch === null)
    return Promise.all(
      fds.map((fd) =>
        fsyncOnPool(fd).then(
          () => null,
          (e: unknown) => errCode(e),
        ),
      ),
    );
  const jobs: Promise<number[]>[] = [];
  for (let at = 0; at < fds.length; at += FSYNC_JOB_SIZE) jobs.push(batch(Int32Array.from(fds.slice(at, at + FSYNC_JOB_SIZE))));
  return (await Promise.all(jobs)).flat().map((r) => (r === 0 ? null : getSystemErrorName(r)));
}

/**
 * A root this run created (with the directories missing above it) is durable only once the directory
 * holding each new name is: fsyncs every directory above `root`, up to `/`, by its real path (the root
 * was resolved to one; these are the user's directories, not the tree's). Clean ones cost next to nothing.
 * Returns how many were fsynced, or the first error that left one unflushed.
 */
export async function fsyncAbove(root: AbsPath): Promise<{ readonly dirs: number; readonly failure: string | null }> {
  const bytes = toBytes(root);
  let dirs = 0;
  for (let end = bytes.lastIndexOf(0x2f); end >= 0; end = bytes.lastIndexOf(0x2f, end - 1)) {
    const dir = end === 0 ? Buffer.from('/') : bytes.subarray(0, end);
    try {
      const fh = await fsPromises().open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      dirs++;
    } catch (e) {
      if (errCode(e) !== 'ENOENT') return { dirs, failure: `${dir.toString('latin1')}: ${errCode(e)}` };
    }
    if (end === 0) break;
  }
  return { dirs, failure: null };
}

/**
 * Opens one entry to be fsynced, or null when there is nothing to flush (vanished, a symlink, a special file). The
 * lstat, open and close are quick calls made here, as the engine makes them everywhere; only the fsync goes to the
 * thread pool (it may wait on the disk). Through fs/promises each of the four was a thread-pool round trip and a
 * FileHandle, and a watch cycle's flush of one file and its directory cost more CPU than the rest of the cycle
 * (issue 11: 40 such flushes took 10-22 ms of CPU that way against 2-3 ms with only the fsync sent).
 */
function openToFlush(fdPath: Buffer, path: RelPath | null): Opened | null {
  const isRoot = path === null;
  const st = isRoot ? statSync(fdPath, { throwIfNoEntry: false }) : lstatSync(fdPath, { throwIfNoEntry: false });
  if (st === undefined || (!st.isFile() && !st.isDirectory())) return null;
  let fd: number;
  try {
    fd = openSync(fdPath, constants.O_RDONLY | constants.O_NONBLOCK | (isRoot ? constants.O_DIRECTORY : constants.O_NOFOLLOW));
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT' || code === 'ELOOP') return null; // gone, or swapped for a symlink, since the lstat
    throw e;
  }
  return { fd, kind: st.isDirectory() ? 'dir' : 'file', path, done: () => closeSync(fd) };
}

function fsyncOnPool(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e === null ? resolve() : reject(e))));
}

/**
 * The root by its own path: it may be given as a symlink (the user's choice, followed once, as when the
 * run opened it), so it is stat'ed and opened without O_NOFOLLOW.
 */
function rootPlace(root: AbsPath): Place {
  return { fdPath: toBytes(root), dirFdPath: toBytes(root), release: () => undefined };
}

function pathLabel(path: RelPath | null): string {
  return path === null ? '(root)' : path;
}
