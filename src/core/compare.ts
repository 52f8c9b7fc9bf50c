import type { Entry } from './types.js';

/**
 * Node sets timestamps through a double number of seconds and libuv truncates that to whole
 * microseconds, so a copied mtime can land up to ~1 µs (plus double rounding) off the source's
 * nanoseconds. Mtimes closer than this are the same mtime as far as tsync can set it.
 */
export const MTIME_TOLERANCE_NS = 2_000n;

export function sameMtime(a: bigint, b: bigint): boolean {
  const d = a - b;
  return d < MTIME_TOLERANCE_NS && d > -MTIME_TOLERANCE_NS;
}

/**
 * Same kind and same bytes (files), or same target text (symlinks). Files of equal size with a missing
 * hash compare as different: the caller hashes every pair that needs it, so this only happens when
 * hashing failed, and copying again is the safe answer.
 */
export function sameContent(a: Entry, b: Entry): boolean {
  if (a.kind === 'file' && b.kind === 'file') return a.size === b.size && a.hash !== null && a.hash === b.hash;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  return a.kind === 'dir' && b.kind === 'dir';
}

/** Mode, mtime, owner, group and xattrs agree. Of a symlink only owner and group count: Linux ignores link modes. */
export function sameMeta(a: Entry, b: Entry): boolean {
  if (!sameOwnership(a, b)) return false;
  if (a.kind === 'symlink' || b.kind === 'symlink') return true;
  if (a.kind !== b.kind) return false;
  return a.mode === b.mode && sameMtime(a.mtimeNs, b.mtimeNs) && sameKept(a.xattrs, b.xattrs);
}

/**
 * Owner and group agree. A field one side lacks was not kept by the run that produced it (--no-owner,
 * no right to chown, an index written before tsync kept owners): it decides nothing.
 */
export function sameOwnership(a: Entry, b: Entry): boolean {
  return sameKept(a.uid, b.uid) && sameKept(a.gid, b.gid);
}

/** Owner, group and xattrs agree (each where kept): the metadata beyond mode and mtime. */
export function sameExtendedMeta(a: Entry, b: Entry): boolean {
  if (!sameOwnership(a, b)) return false;
  if (a.kind === 'symlink' || b.kind === 'symlink') return true;
  return sameKept(a.xattrs, b.xattrs);
}

function sameKept<T>(a: T | undefined, b: T | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}
