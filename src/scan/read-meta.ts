import type { KeptMeta, RelPath, StatId } from '../core/types.js';
import { nowNs } from '../fs/stat.js';
import { nativeNoXattrs, type NoXattrs } from '../fs/native-listing.js';
import { digestOf, readXattrs, xattrDigestAt, xattrPathOf } from '../fs/xattrs.js';
import { type EntryPath, type EntryPathOf, isAsciiName } from './entry-path.js';
import type { ScannedXattrValues } from './xattr-values.js';

/**
 * Reads the metadata beyond mode and mtime that a run keeps; undefined where not kept. Plain values, not
 * objects to spread: every entry of a scan then has the same shape (and no garbage per entry).
 */
export interface MetaReader {
  /** The owner, as the entry's lstat has it, if kept. */
  readonly uid: (uid: number) => number | undefined;
  readonly gid: (gid: number) => number | undefined;
  /**
   * `pathOf(name)`: the entry through its directory's descriptor (fs/xattrs.ts says why not through its own), made
   * only when asked for (a native listing's walk needs no path per entry otherwise). `dirFd`: that descriptor, where
   * the walk holds it (a native listing's), to ask first whether the entry has any attributes at all.
   */
  readonly xattrs: (pathOf: EntryPathOf, name: string, path: RelPath, stat: StatId, dirFd: number | undefined) => string | undefined;
}

/** The xattr digest the index vouches for, or undefined (read them). */
export type VouchXattrs = (path: RelPath, stat: StatId) => string | undefined;

const none = (): undefined => undefined;

/** The digest of no attributes (fs/xattrs.ts digestOf). */
const NO_XATTRS_DIGEST = '';

export const NO_META: MetaReader = { uid: none, gid: none, xattrs: none };

/** `values`: where the values read are kept for the copy that may follow (xattr-values.ts); absent: only digested. */
export function metaReaderOf(keep: KeptMeta | undefined, vouch?: VouchXattrs, values?: ScannedXattrValues): MetaReader {
  if (keep === undefined || (!keep.owner && !keep.group && !keep.xattrs)) return NO_META;
  const read = values === undefined ? (abs: EntryPath) => readXattrDigest(abs) : (abs: EntryPath, path: RelPath, stat: StatId) => readAndKeepXattrs(abs, path, stat, values);
  // Most entries have no attributes at all: one call on the walk's descriptor says so (fs/native-listing.ts), where
  // the library lists twice through a /proc path (by hand: 2.3 µs a call against 7.8 µs; a 10k-file first copy's
  // scan made 21,654 llistxattr calls before and 1,234 after, the rest listxattrat). The
  // answer is the digest of nothing, as a read of an empty list gives; values has nothing to keep for it. A name
  // that is not ASCII goes the library's way, so that one that is not UTF-8 still has none recorded, as before
  // (the library cannot address it, readXattrDigest), and no digest differs from what the library would give.
  const noXattrs = keep.xattrs ? nativeNoXattrs() : null;
  const readUnlessNone =
    noXattrs === null
      ? (pathOf: EntryPathOf, name: string, path: RelPath, stat: StatId) => read(pathOf(name), path, stat)
      : (pathOf: EntryPathOf, name: string, path: RelPath, stat: StatId, dirFd: number | undefined) =>
          (dirFd === undefined ? undefined : digestIfNone(noXattrs, dirFd, name, path, values)) ?? read(pathOf(name), path, stat);
  return {
    uid: keep.owner ? (uid) => uid : none,
    gid: keep.group ? (gid) => gid : none,
    xattrs: keep.xattrs ? (pathOf, name, path, stat, dirFd) => vouch?.(path, stat) ?? readUnlessNone(pathOf, name, path, stat, dirFd) : none,
  };
}

/**
 * '' (the digest of no attributes) where the addon says the entry `name` in the directory `dirFd` holds has none at
 * all, after dropping what `values` kept for `path`; undefined where it has some or cannot say (read them). A name
 * that is not ASCII is read the library's way (see metaReaderOf).
 */
export function digestIfNone(noXattrs: NoXattrs, dirFd: number, name: string, path: RelPath, values: ScannedXattrValues | undefined): string | undefined {
  return isAsciiName(name) && noXattrs(dirFd, name) ? digestOfNone(name, path, values) : undefined;
}

/** digestIfNone for an entry already known to have no xattrs at all (its listing sized their list: 0). */
export function digestOfNone(name: string, path: RelPath, values: ScannedXattrValues | undefined): string | undefined {
  if (!isAsciiName(name)) return undefined;
  values?.forget(path);
  return NO_XATTRS_DIGEST;
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

/** readXattrDigest, keeping the values read in `values` for the entry scanned with `stat`. */
function readAndKeepXattrs(abs: EntryPath, path: RelPath, stat: StatId, values: ScannedXattrValues): string | undefined {
  try {
    const readFromNs = nowNs();
    const attrs = readXattrs(typeof abs === 'string' ? abs : xattrPathOf(abs));
    values.remember(path, stat, attrs, readFromNs);
    return digestOf(attrs);
  } catch {
    return undefined;
  }
}
