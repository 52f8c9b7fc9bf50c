import { linkSync, readdirSync, renameSync, rmSync, lstatSync } from 'node:fs';
import { DirAnchors, type Place } from './dir-anchors.js';
import { markOwnFolder } from './own-folder.js';
import { parentOf } from '../core/paths.js';
import type { AbsPath, RelPath } from '../core/types.js';
import { fromBytes, toBytes, under } from '../fs/paths.js';
import { errCode } from '../fs/stat.js';

/** `<root>/.tsync/trash/<stamp>/<relative path>`: inside the root, so keeping a version is a rename. */
export const TRASH_DIR = '.tsync/trash';

/** A run's trash folder name: UTC, sortable, no colons. */
export function trashStamp(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/:/g, '-');
}

export function stampTime(stamp: string): number | null {
  const iso = stamp.replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

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

  constructor(
    private readonly root: AbsPath,
    private readonly stamp: string,
  ) {
    this.anchors = new DirAnchors(root);
  }

  /** Links the entry at `path` (reached as `abs`, see dir-anchors.ts) into the trash; it stays where it is. */
  keepCopyOf(path: RelPath, abs: Buffer = toBytes(under(this.root, path))): void {
    const dest = this.slot(path);
    try {
      linkSync(abs, dest.fdPath);
    } finally {
      dest.release();
    }
  }

  /** Moves the entry at `path` (reached as `abs`) into the trash. */
  moveToTrash(path: RelPath, abs: Buffer = toBytes(under(this.root, path))): void {
    const dest = this.slot(path);
    try {
      renameSync(abs, dest.fdPath);
    } finally {
      dest.release();
    }
  }

  /** Closes the descriptors the trash holds (the end of a run). */
  close(): void {
    this.anchors.closeAll();
  }

  /** A free name for `path` in this run's trash folder, its directories created. */
  private slot(path: RelPath): Place {
    if (!this.marked) {
      markOwnFolder(this.anchors);
      this.marked = true;
    }
    const base = `${TRASH_DIR}/${this.stamp}/${path}` as RelPath;
    const parent = parentOf(base);
    if (parent !== null) this.anchors.makeDirs(parent);
    for (let n = 1; ; n++) {
      const candidate = this.anchors.place((n === 1 ? base : `${base}.~${n}~`) as RelPath);
      try {
        lstatSync(candidate.fdPath);
      } catch (e) {
        if (errCode(e) === 'ENOENT') return candidate;
        candidate.release();
        throw e;
      }
      candidate.release();
    }
  }
}

export interface TrashedVersion {
  readonly stamp: string;
  readonly atMs: number;
  /** The path it had in the tree. */
  readonly path: RelPath;
  /** Where it is now, relative to the root. */
  readonly stored: RelPath;
}

/** Everything in a root's trash, oldest first. */
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
    if (atMs === null) continue;
    const walk = (rel: string): void => {
      const abs = toBytes(under(root, `${TRASH_DIR}/${stamp}${rel === '' ? '' : `/${rel}`}` as RelPath));
      for (const nameBytes of readdirSync(abs, { encoding: 'buffer' })) {
        const name = fromBytes(nameBytes);
        const child = rel === '' ? name : `${rel}/${name}`;
        const st = lstatSync(Buffer.concat([abs, Buffer.of(0x2f), nameBytes]));
        if (st.isDirectory()) walk(child);
        else out.push({ stamp, atMs, path: child.replace(/\.~\d+~$/, '') as RelPath, stored: `${TRASH_DIR}/${stamp}/${child}` as RelPath });
      }
    };
    walk('');
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
