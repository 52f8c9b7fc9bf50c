import { closeSync, constants, fstatSync, lstatSync, openSync } from 'node:fs';
import { baseName, displayPath, isAtOrBelow, parentOf } from '../core/paths.js';
import type { AbsPath, RelPath } from '../core/types.js';
import { toBytes, under } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';
import { StaleTargetError, UnsafePathError, type AncestorGuard } from './guards.js';

/**
 * Node has no openat(2), so a path like `root/a/b/name` is resolved afresh on every call, and a
 * directory on the way swapped for a symlink between tsync's check and its write would send the write
 * (or a read) outside the tree. On Linux, `/proc/self/fd/N` names the very directory that descriptor N
 * was opened on, whatever happens to the path meanwhile: `/proc/self/fd/N/name` is openat(N, "name").
 * So each directory a run reads from or writes into is opened once (O_DIRECTORY | O_NOFOLLOW), its inode
 * is checked against the one AncestorGuard saw, and every call below it goes through the descriptor.
 * Where /proc is missing, paths are used as they are (the guard's check remains).
 */
const PROC_FD = '/proc/self/fd/';
const SLASH = Buffer.of(0x2f);

function procFdWorks(): boolean {
  try {
    return lstatSync(`${PROC_FD}0`) !== undefined;
  } catch {
    return false;
  }
}

const anchored = procFdWorks();

/** A place to read or write `path`, pinned until `release()`. */
export interface Place {
  /** The entry itself, through its directory's descriptor. */
  readonly abs: Buffer;
  /** Its directory, through the same descriptor (for temp files). */
  readonly dirAbs: Buffer;
  readonly release: () => void;
}

interface Held {
  readonly fd: number;
  readonly prefix: Buffer;
  users: number;
  /** Forgotten while in use: closed by the last release. */
  dropped: boolean;
}

/** Directory descriptors kept open at once (those in use are never closed early). */
const MAX_OPEN = 128;

export class DirAnchors {
  /** Key: the directory's RelPath, '' for the root. Map order is use order (least recent first). */
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly root: AbsPath,
    private readonly guard: AncestorGuard,
  ) {}

  /** Pins the directory holding `path` and returns where `path` is through it. */
  place(path: RelPath): Place {
    const dir = parentOf(path);
    const name = Buffer.from(baseName(path), 'latin1');
    if (!anchored) {
      if (dir !== null) this.guard.verifyDir(dir);
      const dirAbs = toBytes(dir === null ? this.root : under(this.root, dir));
      return { abs: Buffer.concat([dirAbs, SLASH, name]), dirAbs, release: () => undefined };
    }
    const key = dir ?? '';
    let h = this.held.get(key);
    if (h === undefined) {
      h = this.open(dir);
      this.held.set(key, h);
      this.evict();
    } else {
      this.held.delete(key); // move to the most recently used end
      this.held.set(key, h);
    }
    const held = h;
    held.users++;
    let released = false;
    return {
      abs: Buffer.concat([held.prefix, SLASH, name]),
      dirAbs: held.prefix,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.dropped && held.users === 0) closeSync(held.fd);
      },
    };
  }

  /** The run removed or replaced `path`: a directory at or below it must be opened and checked again. */
  forget(path: RelPath): void {
    for (const [key, h] of this.held) {
      if (key === '' || !isAtOrBelow(key as RelPath, path)) continue;
      this.held.delete(key);
      this.drop(h);
    }
  }

  /** Closes every descriptor not in use (the end of a run). */
  closeAll(): void {
    for (const h of this.held.values()) this.drop(h);
    this.held.clear();
  }

  private open(dir: RelPath | null): Held {
    const expected = dir === null ? null : this.guard.verifyDir(dir);
    const label = dir === null ? 'the root' : displayPath(dir);
    let fd: number;
    try {
      fd = openSync(toBytes(dir === null ? this.root : under(this.root, dir)), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (e) {
      const code = errCode(e);
      if (code === 'ELOOP' || code === 'ENOTDIR') throw new UnsafePathError(`${label} is not a real directory (swapped since it was checked); not going through it`);
      if (code === 'ENOENT') throw new StaleTargetError(`${label} vanished`);
      throw e;
    }
    if (expected !== null && fstatSync(fd, { bigint: true }).ino !== expected) {
      closeSync(fd);
      throw new UnsafePathError(`${label} was replaced since it was checked (a directory above it swapped?); not going through it`);
    }
    return { fd, prefix: Buffer.from(`${PROC_FD}${fd}`), users: 0, dropped: false };
  }

  private drop(h: Held): void {
    if (h.users === 0) closeSync(h.fd);
    else h.dropped = true;
  }

  private evict(): void {
    if (this.held.size <= MAX_OPEN) return;
    for (const [key, h] of this.held) {
      if (this.held.size <= MAX_OPEN) break;
      if (h.users > 0) continue;
      this.held.delete(key);
      closeSync(h.fd);
    }
  }
}
