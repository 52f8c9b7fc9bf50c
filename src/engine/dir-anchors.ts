import { closeSync, constants, lstatSync, mkdirSync, openSync } from 'node:fs';
import { ancestorsOf, baseName, displayPath, isAtOrBelow, parentOf } from '../core/paths.js';
import type { AbsPath, RelPath } from '../core/types.js';
import { toBytes, under } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import { nativeDirOpener, type NativeDirOpener } from '../fs/native-listing.js';
import { StaleTargetError, UnsafePathError, type AncestorGuard } from './guards.js';

/**
 * Node has no openat(2), so a path like `root/a/b/name` is resolved afresh on every call, and a
 * directory on the way swapped for a symlink between tsync's check and its write would send the write
 * (or a read) outside the tree. On Linux, `/proc/self/fd/N` names the very directory that descriptor N
 * was opened on, whatever happens to the path meanwhile: `/proc/self/fd/N/name` is openat(N, "name").
 * So each directory a run reads from or writes into is opened once, relative to its parent's
 * descriptor and with O_DIRECTORY | O_NOFOLLOW (a symlink is refused), from the root down, and every
 * call below it goes through its descriptor. No path is ever resolved through a symlink inside a root,
 * and since each step resolves one name, a path longer than PATH_MAX or 1,000 levels deep costs no more
 * per call than a short one.
 * Where the native addon is in use (fs/native-listing.ts), a child directory is opened with openat(2) itself on its
 * parent's descriptor, which is what the path through /proc stands for, without resolving the /proc part each time.
 * Where /proc is missing (macOS, the BSDs), paths are used as they are and AncestorGuard's lstat checks
 * remain. TSYNC_NO_PROC=1 forces that fallback on Linux: a testing switch, so that `npm test` can run
 * the suites through the path macOS takes (README "Platforms").
 */
export const PROC_FD = '/proc/self/fd/';
const SLASH = Buffer.of(0x2f);

function procFdWorks(): boolean {
  try {
    return lstatSync(`${PROC_FD}0`) !== undefined;
  } catch {
    return false;
  }
}

export const anchoredPaths = process.env.TSYNC_NO_PROC !== '1' && procFdWorks();

/** A place to read or write `path`, pinned until `release()`. */
export interface Place {
  /**
   * The entry itself, through its directory's descriptor (`/proc/self/fd/N/name`; where /proc is
   * missing, the plain absolute path, checked by the guard).
   */
  readonly fdPath: Buffer;
  /** Its directory, through the same descriptor (for temp files). */
  readonly dirFdPath: Buffer;
  /** That directory's descriptor (for the scan's native listing, fs/native-listing.ts); absent where /proc is missing. */
  readonly dirFd?: number;
  readonly release: () => void;
}

interface Held {
  readonly fd: number;
  /** Opened by the native addon (openChild), and closed by it. */
  readonly native: boolean;
  readonly prefix: Buffer;
  users: number;
  /** Forgotten while in use: closed by the last release. */
  dropped: boolean;
}

/** Directory descriptors kept open at once (those in use are never closed early). */
const MAX_OPEN = 64;
const ROOT_KEY = '';

export class DirAnchors {
  /** Key: the directory's RelPath, '' for the root. Map order is use order (least recent first). */
  private readonly held = new Map<string, Held>();
  /** openat(2) through the native addon, or null (then a path through /proc/self/fd): see openChild. */
  private readonly native: NativeDirOpener | null = nativeDirOpener();

  /** `guard`: where /proc is missing, what checks the directories on the way (null: nothing, for reads). */
  constructor(
    private readonly root: AbsPath,
    private readonly guard: AncestorGuard | null = null,
  ) {}

  /** Pins the directory holding `path` and returns where `path` is through it. */
  place(path: RelPath): Place {
    const dir = parentOf(path);
    const name = Buffer.from(baseName(path), 'latin1');
    if (!anchoredPaths) {
      this.guard?.assert(path);
      const dirAbs = toBytes(dir === null ? this.root : under(this.root, dir));
      return { fdPath: Buffer.concat([dirAbs, SLASH, name]), dirFdPath: dirAbs, release: () => undefined };
    }
    const held = this.acquire(dir);
    return this.pinned(held, Buffer.concat([held.prefix, SLASH, name]));
  }

  /** Pins the directory `dir` itself (null: the root), for listing it. */
  dir(dir: RelPath | null): Place {
    if (!anchoredPaths) {
      if (dir !== null) this.guard?.verifyDir(dir);
      const abs = toBytes(dir === null ? this.root : under(this.root, dir));
      return { fdPath: abs, dirFdPath: abs, release: () => undefined };
    }
    const held = this.acquire(dir);
    return this.pinned(held, held.prefix);
  }

  /**
   * The descriptor of the directory `dir` itself (null: the root), pinned until `release()`; null where /proc is
   * missing (no descriptors are kept then: the caller goes by path). For an fsync of the directory: the descriptor
   * a run already holds serves, with no second open of the same directory.
   */
  descriptorOf(dir: RelPath | null): { readonly fd: number; readonly release: () => void } | null {
    if (!anchoredPaths) return null;
    const held = this.acquire(dir);
    return { fd: held.fd, release: this.pinned(held, held.prefix).release };
  }

  /** A Place below `held` whose release (once, however often it is called) gives the descriptor back. */
  private pinned(held: Held, fdPath: Buffer): Place {
    let released = false;
    return {
      fdPath,
      dirFdPath: held.prefix,
      dirFd: held.fd,
      release: () => {
        if (released) return;
        released = true;
        this.release(held);
      },
    };
  }

  /** Creates `dir` and whatever is missing above it (mode 0700), one name at a time through descriptors. */
  makeDirs(dir: RelPath): void {
    if (!anchoredPaths) {
      mkdirSync(toBytes(under(this.root, dir)), { recursive: true, mode: 0o700 });
      return;
    }
    // top-down, so that each step opens one name below a directory already held
    for (const d of [...ancestorsOf(dir), dir]) {
      if (this.isThere(d)) continue;
      const place = this.place(d);
      try {
        mkdirSync(place.fdPath, { mode: 0o700 });
      } catch (e) {
        if (errCode(e) !== 'EEXIST') throw e;
      } finally {
        place.release();
      }
    }
  }

  /**
   * Whether directory `d` is there, opened and held as `dir` opens it; false where it is not (yet). Any other failure
   * throws as `dir` does. The directory above `d` is held (makeDirs goes top-down), and where the addon is in use a
   * missing `d` costs no error object: makeDirs asks this of every directory it makes (a kept version's folders in
   * the trash, one or two per version a watch cycle or an incremental run keeps), and two errors with their stack
   * traces cost more than the open.
   */
  private isThere(d: RelPath): boolean {
    const parent = parentOf(d);
    const native = this.native;
    if (native === null || this.held.has(d)) {
      try {
        this.dir(d).release();
        return true;
      } catch (e) {
        if (!(e instanceof StaleTargetError)) throw e; // vanished = not there yet
        return false;
      }
    }
    const up = this.acquire(parent);
    try {
      let fd: number | false;
      try {
        fd = native.openIfThere(up.fd, baseName(d));
      } catch {
        // not a directory, a symlink, unreadable: openChild says so the usual way (or finds it there now, or gone)
        try {
          this.release(this.openChild(up, d));
          return true;
        } catch (e) {
          if (!(e instanceof StaleTargetError)) throw e;
          return false;
        }
      }
      if (fd === false) return false;
      this.release(this.remember(d, fd, true));
      return true;
    } finally {
      this.release(up);
    }
  }

  /** Checks that every directory above `path` is a real directory (opening the chain of descriptors). */
  assertParents(path: RelPath): void {
    this.place(path).release();
  }

  /** The run removed or replaced `path`: a directory at or below it must be opened and checked again. */
  forget(path: RelPath): void {
    for (const [key, h] of this.held) {
      if (key === ROOT_KEY || !isAtOrBelow(key as RelPath, path)) continue;
      this.held.delete(key);
      this.drop(h);
    }
  }

  /** Closes every descriptor not in use (the end of a run). */
  closeAll(): void {
    for (const h of this.held.values()) this.drop(h);
    this.held.clear();
  }

  /** The descriptor of `dir` (null: the root), users + 1; opened step by step from the nearest one held. */
  private acquire(dir: RelPath | null): Held {
    const key = dir ?? ROOT_KEY;
    const hit = this.held.get(key);
    if (hit !== undefined) {
      this.held.delete(key); // to the most recently used end
      this.held.set(key, hit);
      hit.users++;
      return hit;
    }
    // the nearest ancestor held (or the root), then one name at a time down to `dir`
    const chain: RelPath[] = [];
    let up: RelPath | null = dir;
    while (up !== null && !this.held.has(up)) {
      chain.push(up);
      up = parentOf(up);
    }
    let current = up === null ? this.openRoot() : this.acquire(up);
    for (let i = chain.length - 1; i >= 0; i--) {
      const next = chain[i] as RelPath;
      let opened: Held;
      try {
        opened = this.openChild(current, next);
      } finally {
        this.release(current);
      }
      current = opened;
    }
    return current;
  }

  private openRoot(): Held {
    const existing = this.held.get(ROOT_KEY);
    if (existing !== undefined) {
      existing.users++;
      return existing;
    }
    const fd = openSync(toBytes(this.root), constants.O_RDONLY | constants.O_DIRECTORY);
    return this.remember(ROOT_KEY, fd);
  }

  private openChild(parent: Held, dir: RelPath): Held {
    let fd: number;
    try {
      // openat(2) on the parent's descriptor where the native addon is in use: the same directory, without the
      // kernel resolving /proc/self/fd/N for each one a walk enters (issue 11)
      const native = this.native;
      fd =
        native !== null
          ? native.open(parent.fd, baseName(dir))
          : openSync(Buffer.concat([parent.prefix, SLASH, Buffer.from(baseName(dir), 'latin1')]), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (e) {
      const code = errCode(e);
      if (code === 'ELOOP' || code === 'ENOTDIR') throw new UnsafePathError(`${displayPath(dir)} is not a real directory (a symlink or another kind); not going through it`);
      if (code === 'ENOENT') throw new StaleTargetError(`${displayPath(dir)} vanished`);
      throw e;
    }
    return this.remember(dir, fd, this.native !== null);
  }

  /** Caches a new descriptor with one user, closing the least recently used idle ones over the limit. */
  private remember(key: string, fd: number, native = false): Held {
    const h: Held = { fd, native, prefix: Buffer.from(`${PROC_FD}${fd}`), users: 1, dropped: false };
    this.held.set(key, h);
    for (const [k, old] of this.held) {
      if (this.held.size <= MAX_OPEN) break;
      if (old.users > 0) continue;
      this.held.delete(k);
      this.close(old);
    }
    return h;
  }

  private release(h: Held): void {
    h.users--;
    if (h.dropped && h.users === 0) this.close(h);
  }

  private drop(h: Held): void {
    if (h.users === 0) this.close(h);
    else h.dropped = true;
  }

  /** Closes a descriptor the way it was opened (NativeDirOpener.close says why). */
  private close(h: Held): void {
    if (h.native && this.native !== null) this.native.close(h.fd);
    else closeSync(h.fd);
  }
}
