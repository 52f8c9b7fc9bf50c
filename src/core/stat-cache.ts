import type { BaseRecord, SideRecord, StatId } from './types.js';

/**
 * Kernel timestamps come from a coarse clock (one tick is 1-10 ms). A write that lands in the same tick
 * as the stat we record leaves ctime unchanged, so such a "racily clean" stat cannot vouch for content
 * later (git's racy-clean problem). We treat a ctime this close to the moment we looked as racy.
 */
export const RACY_WINDOW_NS = 50_000_000n;

/** The ctime stored for a racy record: it never matches a real ctime, so the next scan re-hashes. */
export const RACY_CTIME = -1n;

/**
 * On a file system with fine-grained ctimes (see fs/ctime-probe.ts) the window is 0: any change after a
 * stat gets a ctime of its own, so no stat is racy.
 */
export function isRacy(ctimeNs: bigint, observedAtNs: bigint, windowNs: bigint = RACY_WINDOW_NS): boolean {
  return windowNs > 0n && ctimeNs >= observedAtNs - windowNs;
}

/** What to remember of one side after a sync, given its stat and when that stat was taken. */
export function sideRecordOf(stat: StatId, observedAtNs: bigint, windowNs: bigint = RACY_WINDOW_NS): SideRecord {
  return { mtimeNs: stat.mtimeNs, ino: stat.ino, ctimeNs: isRacy(stat.ctimeNs, observedAtNs, windowNs) ? RACY_CTIME : stat.ctimeNs };
}

/**
 * The content hash the index can vouch for, or null when the file must be re-read. Size and mtime alone
 * are not enough (an edit followed by `touch -d` keeps both), so inode and ctime must match too: ctime
 * cannot be set from user space.
 */
export function vouchedHash(stat: StatId, record: BaseRecord | undefined, side: SideRecord | null | undefined): string | null {
  if (record === undefined || side === null || side === undefined) return null;
  const e = record.entry;
  if (e.kind !== 'file' || e.hash === null) return null;
  if (side.ctimeNs === RACY_CTIME) return null;
  if (stat.size !== e.size || stat.mtimeNs !== side.mtimeNs || stat.ino !== side.ino || stat.ctimeNs !== side.ctimeNs) return null;
  return e.hash;
}

/**
 * Setting or removing an extended attribute changes the inode's ctime, which user space cannot set
 * back: an entry whose inode and ctime are what the index recorded still has the attributes the index
 * recorded. A listxattr per entry (two syscalls in the library, about 8 µs here) is then saved on every
 * unchanged entry, as the stat cache saves re-hashing (vouchedHash above).
 */
export function vouchedXattrs(stat: StatId, record: BaseRecord | undefined, side: SideRecord | null | undefined): string | undefined {
  if (record === undefined || side === null || side === undefined) return undefined;
  const e = record.entry;
  if (e.kind === 'symlink' || e.xattrs === undefined || side.ctimeNs === RACY_CTIME) return undefined;
  if (stat.ino !== side.ino || stat.ctimeNs !== side.ctimeNs) return undefined;
  return e.xattrs;
}
