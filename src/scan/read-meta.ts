import type { BigIntStats } from 'node:fs';
import { RACY_CTIME } from '../core/stat-cache.js';
import type { BaseRecord, KeptMeta, RelPath, SideRecord, StatId } from '../core/types.js';
import { xattrDigestAt, xattrPathOf } from '../fs/xattrs.js';
import type { EntryPath } from './entry-path.js';

/**
 * Reads the metadata beyond mode and mtime that a run keeps; undefined where not kept. Plain values, not
 * objects to spread: every entry of a scan then has the same shape (and no garbage per entry).
 */
export interface MetaReader {
  readonly uid: (st: BigIntStats) => number | undefined;
  readonly gid: (st: BigIntStats) => number | undefined;
  /** `abs`: the entry through its directory's descriptor (fs/xattrs.ts says why not through its own). */
  readonly xattrs: (abs: EntryPath, path: RelPath, stat: StatId) => string | undefined;
}

/** The xattr digest the index vouches for, or undefined (read them). */
export type VouchXattrs = (path: RelPath, stat: StatId) => string | undefined;

const none = (): undefined => undefined;

export const NO_META: MetaReader = { uid: none, gid: none, xattrs: none };

export function metaReaderOf(keep: KeptMeta | undefined, vouch?: VouchXattrs): MetaReader {
  if (keep === undefined || (!keep.owner && !keep.group && !keep.xattrs)) return NO_META;
  return {
    uid: keep.owner ? (st) => Number(st.uid) : none,
    gid: keep.group ? (st) => Number(st.gid) : none,
    xattrs: keep.xattrs ? (abs, path, stat) => vouch?.(path, stat) ?? readXattrDigest(abs) : none,
  };
}

/**
 * Setting or removing an extended attribute changes the inode's ctime, which user space cannot set
 * back: an entry whose inode and ctime are what the index recorded still has the attributes the index
 * recorded. A listxattr per entry (two syscalls in the library, about 8 µs here) is then saved on every
 * unchanged entry, as the stat cache saves re-hashing (core/stat-cache.ts).
 */
export function vouchedXattrs(stat: StatId, record: BaseRecord | undefined, side: SideRecord | null | undefined): string | undefined {
  if (record === undefined || side === null || side === undefined) return undefined;
  const e = record.entry;
  if (e.kind === 'symlink' || e.xattrs === undefined || side.ctimeNs === RACY_CTIME) return undefined;
  if (stat.ino !== side.ino || stat.ctimeNs !== side.ctimeNs) return undefined;
  return e.xattrs;
}

/**
 * The digest of the entry's kept attributes. One that cannot be read (a name that is not UTF-8, a file
 * system without xattrs, the entry gone meanwhile) has none recorded, which decides nothing when compared
 * (core/compare.ts): the engine, which must write them, is where such a case is reported.
 */
export function readXattrDigest(abs: EntryPath): string | undefined {
  try {
    // a string EntryPath is ASCII, hence UTF-8 already
    return xattrDigestAt(typeof abs === 'string' ? abs : xattrPathOf(abs));
  } catch {
    return undefined;
  }
}
