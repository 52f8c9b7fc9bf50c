import { linkSync, readdirSync, renameSync, rmSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { anchoredPaths, DirAnchors, type Place } from './dir-anchors.js';
import { AncestorGuard, StaleTargetError, UnsafePathError } from './guards.js';
import { markOwnFolder } from './own-folder.js';
import { ancestorsOf, displayPath, parentOf } from '../core/paths.js';
import { isStoredVersionOf, isTrashStamp, TRASH_DIR, type TrashedVersion } from '../core/trash-names.js';
import type { AbsPath, RelPath } from '../core/types.js';
import { fromBytes, toBytes, under } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import { nativeMakeDirsAhead, nativeSpreadSubdirs } from '../fs/native-listing.js';
import { timing } from '../runtime/timings.js';

export { TRASH_DIR, type TrashedVersion };

/** A run's trash folder name: UTC, sortable, no colons. */
export function trashStamp(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/:/g, '-');
}

/**
 * The trash folder of a long-running watch: one stamp for every cycle within `spanMs` of the stamp's time, then a
 * new one. A folder per cycle made (and flushed) a folder and its parents for each single change, and filled the
 * trash listing with one entry per cycle. Pruning goes by the stamp's time, so a version kept in a folder is at
 * most `spanMs` younger than its stamp says: it may go that much early, never late.
 */
export class RotatingTrashStamp {
  private current: { readonly stamp: string; readonly atMs: number } | null = null;

  constructor(private readonly spanMs: number) {}

  at(nowMs: number): string {
    const c = this.current;
    // a clock set back starts a folder of its own too: a stamp never says a time later than what it keeps
    if (c !== null && nowMs >= c.atMs && nowMs - c.atMs < this.spanMs) return c.stamp;
    const stamp = trashStamp(nowMs);
    this.current = { stamp, atMs: nowMs };
    return stamp;
  }
}

export function stampTime(stamp: string): number | null {
  const iso = stamp.replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** Below this many folders, makeAhead does not start a job: its start costs about what a few folders do. */
const MAKE_AHEAD_MIN = 8;

/**
 * Where one run keeps what it overwrites or deletes on one side. Keeping is a hard link (for a file
 * about to be replaced by a rename: the old inode lives on in the trash, and the replacement stays
 * atomic) or a rename (for a file about to be deleted). If a version cannot be kept, the action fails:
 * nothing is destroyed that was meant to be kept.
 */
export class Trash {
  /** The trash folder is reached like the tree: one directory descriptor at a time (dir-anchors.ts). */
  private readonly anchors: DirAnchors;
  /** `.tsync/` has its .gitignore and CACHEDIR.TAG (checked once per run, when the first version is kept). */
  private marked = false;
  /** The descriptors held were opened by an earlier run (carryOver): a folder among them may have been removed since. */
  private heldFromBefore = false;
  /** The flag that stops the job making folders ahead (makeAhead), while one may run. */
  private aheadCancel: Int32Array | null = null;

  constructor(
    private readonly root: AbsPath,
    readonly stamp: string,
  ) {
    this.anchors = new DirAnchors(root);
  }

  /** Links the entry at `path` (reached as `abs`, see dir-anchors.ts) into the trash; it stays where it is. */
  keepCopyOf(path: RelPath, abs: Buffer = toBytes(under(this.root, path))): void {
    this.keep(path, (dest) => linkSync(abs, dest));
  }

  /** Moves the entry at `path` (reached as `abs`) into the trash. */
  moveToTrash(path: RelPath, abs: Buffer = toBytes(under(this.root, path))): void {
    this.keep(path, (dest) => renameSync(abs, dest));
  }

  /**
   * The next run of a watch keeps its versions here too (one folder a minute, RotatingTrashStamp), through the
   * descriptors this run opened: a watch cycle that keeps one version then opens only the folders that are new,
   * where it opened the root, `.tsync`, `trash` and the stamp's folder each time, and checked the marks.
   */
  carryOver(): void {
    this.heldFromBefore = true;
    this.marked = false;
  }

  /**
   * Starts making the folders that versions of paths in `dirs` (directories of the tree, last needed first:
   * core/trash-folders.ts) will be kept in, on a thread of libuv's pool (native/dirs_ahead.c), while the run goes on.
   * On some file systems a mkdir costs far more than a rename or a link (ext4 without a journal, soon after mass
   * deletes: about half a millisecond of kernel time, see native/dirs_ahead.c), and a run that keeps versions from
   * all over the tree makes one per directory it touches. The run still makes any folder it reaches first (makeDirs
   * and the job both take an existing one as made), so this is only ever a head start: without the addon or /proc,
   * for a few folders, or when anything goes wrong here, every folder is made where it is needed, as before, and
   * errors are reported there. A folder made ahead for a version the run then does not keep (it stopped, the action
   * failed) stays, empty, in this run's trash folder, which the trash's pruning removes with the rest.
   */
  makeAhead(dirs: readonly RelPath[]): void {
    const make = nativeMakeDirsAhead();
    if (make === null || !anchoredPaths || dirs.length < MAKE_AHEAD_MIN) return;
    this.stopAhead();
    const stampDir = `${TRASH_DIR}/${this.stamp}` as RelPath;
    try {
      this.markFolder();
      this.anchors.makeDirs(stampDir);
      const held = this.anchors.descriptorOf(stampDir);
      if (held === null) return;
      try {
        const cancel = new Int32Array(new SharedArrayBuffer(4));
        // the job copies the paths and its own descriptor before this returns
        void make(held.fd, Buffer.from(`${dirs.join('\0')}\0`, 'latin1'), cancel).catch(() => undefined);
        this.aheadCancel = cancel;
        timing(`trash folders made ahead: ${dirs.length} queued`);
      } finally {
        held.release();
      }
    } catch {
      // no head start: keeping a version makes its folder, and says what is wrong if it cannot
    }
  }

  /** Closes the descriptors the trash holds (its endpoint is done with it: a new stamp, or the end). */
  close(): void {
    this.stopAhead();
    this.anchors.closeAll();
  }

  /** Stops the job making folders ahead before its next folder (one being made is finished). */
  private stopAhead(): void {
    if (this.aheadCancel !== null) Atomics.store(this.aheadCancel, 0, 1);
    this.aheadCancel = null;
  }

  /**
   * Puts the version into its slot. A folder held open since an earlier run that was removed meanwhile (`rm -r
   * .tsync`) takes no new entry (ENOENT, or a stale step on the way): then every descriptor is dropped and the
   * slot is made again from the root, once. A held folder that was moved elsewhere still takes the version, which
   * is then kept where the folder went, as a rename of the folder would have done to versions kept before it.
   */
  private keep(path: RelPath, put: (dest: Buffer) => void): void {
    try {
      this.putInSlot(path, put);
    } catch (e) {
      if (!this.heldFromBefore || !(e instanceof StaleTargetError || errCode(e) === 'ENOENT')) throw e;
      this.anchors.closeAll();
      this.heldFromBefore = false;
      this.marked = false;
      this.putInSlot(path, put);
    }
  }

  private putInSlot(path: RelPath, put: (dest: Buffer) => void): void {
    const dest = this.slot(path);
    try {
      put(dest.fdPath);
    } finally {
      dest.release();
    }
  }

  /**
   * `.tsync/` gets its marks, and the trash folder is made with FS_TOPDIR_FL (native/dirs_ahead.c spreadSubdirs): each
   * run's folder in it is a tree of its own, which ext4 then places in a block group of its own. Without the flag a
   * run's trash folders went where the last ones were, which the benchmark's restore (and the trash's pruning) had
   * just deleted, and on ext4 without a journal each mkdir there paid a check of every recently freed inode. Where
   * the flag cannot be set (another file system, no addon) nothing else changes.
   */
  private markFolder(): void {
    if (this.marked) return;
    markOwnFolder(this.anchors);
    this.anchors.makeDirs(TRASH_DIR as RelPath);
    const spread = nativeSpreadSubdirs();
    const held = spread === null ? null : this.anchors.descriptorOf(TRASH_DIR as RelPath);
    if (spread !== null && held !== null) {
      try {
        spread(held.fd);
      } finally {
        held.release();
      }
    }
    this.marked = true;
  }

  /** A free name for `path` in this run's trash folder, its directories created. */
  private slot(path: RelPath): Place {
    this.markFolder();
    const base = `${TRASH_DIR}/${this.stamp}/${path}` as RelPath;
    const parent = parentOf(base);
    if (parent !== null) this.anchors.makeDirs(parent);
    for (let n = 1; ; n++) {
      const candidate = this.anchors.place((n === 1 ? base : `${base}.~${n}~`) as RelPath);
      let taken: boolean;
      try {
        // no exception for the usual answer (a free name): throwing one per kept version cost more than the lstat
        taken = lstatSync(candidate.fdPath, { throwIfNoEntry: false }) !== undefined;
      } catch (e) {
        candidate.release();
        throw e;
      }
      if (!taken) return candidate;
      candidate.release();
    }
  }
}

/** A kept version's number in its folder: the first version of a path has its own name (1), later ones `.~N~`. */
function versionNumberOf(stored: string): number {
  const m = /\.~(\d+)~$/.exec(stored);
  return m === null ? 1 : Number(m[1]);
}

/**
 * Everything in a root's trash, oldest first: by folder, and within one the versions of a path by their number (a
 * watch keeps a minute of versions in one folder; a directory listing's order is the file system's, not theirs).
 */
export function listTrash(root: AbsPath): TrashedVersion[] {
  const out: TrashedVersion[] = [];
  const trashAbs = toBytes(under(root, TRASH_DIR as RelPath));
  let stamps: string[];
  try {
    stamps = readdirSync(trashAbs, { encoding: 'buffer' }).map(fromBytes).sort();
  } catch {
    return out;
  }
  for (const stamp of stamps) {
    const atMs = stampTime(stamp);
    // only the folders runs make (a restore names its version by the stamp, and the agent checks that form)
    if (atMs === null || !isTrashStamp(stamp)) continue;
    const walk = (rel: string): void => {
      const abs = toBytes(under(root, `${TRASH_DIR}/${stamp}${rel === '' ? '' : `/${rel}`}` as RelPath));
      for (const nameBytes of readdirSync(abs, { encoding: 'buffer' })) {
        const name = fromBytes(nameBytes);
        const child = rel === '' ? name : `${rel}/${name}`;
        const st = lstatSync(Buffer.concat([abs, Buffer.of(0x2f), nameBytes]));
        if (st.isDirectory()) walk(child);
        // when it was kept: keeping links or renames the version, which sets its ctime (a watch keeps a minute of
        // versions in one folder, so the folder's stamp alone would give them all one time); never before the stamp
        else out.push({ stamp, atMs: Math.max(atMs, Math.floor(st.ctimeMs)), path: child.replace(/\.~\d+~$/, '') as RelPath, stored: `${TRASH_DIR}/${stamp}/${child}` as RelPath });
      }
    };
    const from = out.length;
    walk('');
    const inFolder = out.splice(from).sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : versionNumberOf(x.stored) - versionNumberOf(y.stored)));
    out.push(...inFolder);
  }
  return out;
}

/** Removes trash folders older than `keepMs`; returns how many. */
export function pruneTrash(root: AbsPath, keepMs: number, nowMs: number): number {
  let removed = 0;
  const trashAbs = toBytes(under(root, TRASH_DIR as RelPath));
  let stamps: string[];
  try {
    stamps = readdirSync(trashAbs, { encoding: 'buffer' }).map(fromBytes);
  } catch {
    return 0;
  }
  for (const stamp of stamps) {
    const at = stampTime(stamp);
    if (at === null || nowMs - at <= keepMs) continue;
    rmSync(toBytes(under(root, `${TRASH_DIR}/${stamp}` as RelPath)), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/**
 * Puts a trashed version back at its path. Whatever stands there now is moved into the trash first (a
 * folder of its own, stamped `nowMs`), so nothing is lost. The version is then hard-linked into place and
 * only then unlinked from the trash: a link never replaces, so an entry that appeared at the path in the
 * meantime makes the restore fail (EEXIST) instead of being overwritten. Every directory on the way is
 * reached through descriptors (dir-anchors.ts): a directory swapped for a symlink is refused, never followed.
 */
export function restoreVersion(root: AbsPath, version: Pick<TrashedVersion, 'stamp' | 'path' | 'stored'>, nowMs: number): void {
  const { stamp, path, stored } = version;
  if (!isStoredVersionOf(stored, stamp, path)) throw new UnsafePathError(`${displayPath(stored)} is not where the trash keeps a version of ${displayPath(path)}`);
  const anchors = new DirAnchors(root, new AncestorGuard(root));
  try {
    const parent = parentOf(path);
    if (parent !== null) makeMissingDirs(anchors, parent);
    const target = anchors.place(path);
    const from = anchors.place(stored);
    try {
      if (existsAt(target.fdPath)) {
        const trash = new Trash(root, trashStamp(nowMs));
        try {
          trash.moveToTrash(path, target.fdPath);
        } finally {
          trash.close();
        }
      }
      linkSync(from.fdPath, target.fdPath);
      unlinkSync(from.fdPath);
    } finally {
      target.release();
      from.release();
    }
  } finally {
    anchors.closeAll();
  }
}

/** Creates the missing directories of `dir` with the default mode (as a restore always did), one name at a time. */
function makeMissingDirs(anchors: DirAnchors, dir: RelPath): void {
  for (const d of [...ancestorsOf(dir), dir]) {
    try {
      anchors.dir(d).release();
      continue;
    } catch (e) {
      if (!(e instanceof StaleTargetError)) throw e; // vanished = not there yet
    }
    const place = anchors.place(d);
    try {
      mkdirSync(place.fdPath);
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e;
    } finally {
      place.release();
    }
  }
}

function existsAt(p: Buffer): boolean {
  try {
    lstatSync(p);
    return true;
  } catch (e) {
    if (errCode(e) === 'ENOENT') return false;
    throw e;
  }
}
