import { inodeGroups } from './hard-links.js';
import { compareRel } from './paths.js';
import type { RelPath, Snapshot } from './types.js';

export interface LinkDifference {
  readonly path: RelPath;
  /** The other paths of the first tree that share this path's inode, and of the second. */
  readonly left: readonly RelPath[];
  readonly right: readonly RelPath[];
}

/**
 * Where two trees' hard links differ: for each file that is in both trees, the other paths that share
 * its inode in each must be the same paths. One difference per path whose partners differ.
 */
export function linkDifferences(left: Snapshot, right: Snapshot): LinkDifference[] {
  const leftPartners = partners(left);
  const rightPartners = partners(right);
  const out: LinkDifference[] = [];
  const paths = new Set([...leftPartners.keys(), ...rightPartners.keys()]);
  for (const path of paths) {
    if (left.entries.get(path)?.entry.kind !== 'file' || right.entries.get(path)?.entry.kind !== 'file') continue;
    const l = leftPartners.get(path) ?? [];
    const r = rightPartners.get(path) ?? [];
    if (l.length !== r.length || l.some((p, i) => p !== r[i])) out.push({ path, left: l, right: r });
  }
  return out.sort((a, b) => compareRel(a.path, b.path));
}

/** For each path that shares its inode with others in the snapshot: those others, sorted. */
function partners(snap: Snapshot): Map<RelPath, RelPath[]> {
  const out = new Map<RelPath, RelPath[]>();
  for (const group of inodeGroups(snap).values()) {
    if (group.length < 2) continue;
    group.sort(compareRel);
    for (const p of group)
      out.set(
        p,
        group.filter((q) => q !== p),
      );
  }
  return out;
}
