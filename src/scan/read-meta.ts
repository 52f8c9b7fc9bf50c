import type { BigIntStats } from 'node:fs';
import type { KeptMeta, OwnerMeta, XattrMeta } from '../core/types.js';
import { xattrDigestAt, xattrPathOf } from '../fs/xattrs.js';

/** Reads the metadata beyond mode and mtime that a run keeps, as fields to spread into an entry. */
export interface MetaReader {
  readonly owner: (st: BigIntStats) => OwnerMeta;
  /** `abs`: the entry through its directory's descriptor (fs/xattrs.ts says why not through its own). */
  readonly xattrs: (abs: Buffer) => XattrMeta;
}

const NOTHING: Readonly<Record<string, never>> = Object.freeze({});

export const NO_META: MetaReader = { owner: () => NOTHING, xattrs: () => NOTHING };

export function metaReaderOf(keep: KeptMeta | undefined): MetaReader {
  if (keep === undefined || (!keep.owner && !keep.group && !keep.xattrs)) return NO_META;
  const owner = ownerReader(keep);
  return { owner, xattrs: keep.xattrs ? readXattrDigest : () => NOTHING };
}

function ownerReader(keep: KeptMeta): (st: BigIntStats) => OwnerMeta {
  if (keep.owner && keep.group) return (st) => ({ uid: Number(st.uid), gid: Number(st.gid) });
  if (keep.owner) return (st) => ({ uid: Number(st.uid) });
  if (keep.group) return (st) => ({ gid: Number(st.gid) });
  return () => NOTHING;
}

/**
 * The digest of the entry's kept attributes. One that cannot be read (a name that is not UTF-8, a file
 * system without xattrs, the entry gone meanwhile) has none recorded, which decides nothing when compared
 * (core/compare.ts): the engine, which must write them, is where such a case is reported.
 */
function readXattrDigest(abs: Buffer): XattrMeta {
  try {
    return { xattrs: xattrDigestAt(xattrPathOf(abs)) };
  } catch {
    return NOTHING;
  }
}
