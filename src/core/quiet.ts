import { recordsAgreed } from './commit.js';
import { metaAgrees } from './merge-meta.js';
import { ancestorsOf, parentOf } from './paths.js';
import { unchangedSinceBase } from './reconcile-two-way.js';
import { RACY_CTIME, RACY_WINDOW_NS } from './stat-cache.js';
import type { Base, BaseRecord, RelPath, ScannedEntry, Side, Snapshot } from './types.js';

/** The widest racy window a run may use (stat-cache.ts): a scan that is not racy under it is racy under none. */
const WIDEST: Readonly<Record<Side, bigint>> = { left: RACY_WINDOW_NS, right: RACY_WINDOW_NS };

/**
 * Two-way: the paths a full cycle must plan for, as a scope (scope.ts) for planTwoWay, the hashing before it
 * and the next base after it. Every other path is quiet: both sides hold what the base recorded for them,
 * agree on their metadata, the base record is exactly the one this scan would make, and its parent is a
 * directory on both sides. planTwoWay decides such a path `agree` and lists it as agreed whatever the
 * paths around it hold: agree removes nothing, and a parent that is a directory on both sides is never
 * removed either, so the directory it keeps for something below it changes no decision. NextBase keeps
 * its record as it is (commit.ts recordsAgreed). Leaving it out changes neither (test/unit/quiet.test.ts
 * holds the two plans and next bases equal), and a no-op run then plans nothing instead of deciding 100k
 * paths and checking 100k records again.
 *
 * A record with a racy ctime, and a scan racy under the widest window, are never quiet: the next base
 * would rewrite those. Ancestors of a changed path are in the scope too, as in a watch's (expandScope).
 */
export function changedSinceBase(base: Base, left: Snapshot, right: Snapshot): Set<RelPath> {
  const changed = new Set<RelPath>();
  const add = (path: RelPath): void => {
    if (changed.has(path)) return;
    changed.add(path);
    for (const a of ancestorsOf(path)) changed.add(a);
  };
  // how many of each side's paths the base holds: when that is all of them, no pass over the side is needed for new ones
  let leftInBase = 0;
  let rightInBase = 0;
  const parentIsDirOnBoth = dirOnBothSides(left, right);
  for (const [path, b] of base) {
    const l = left.entries.get(path);
    const r = right.entries.get(path);
    if (l !== undefined) leftInBase++;
    if (r !== undefined) rightInBase++;
    if (!isQuiet(l, r, b) || !parentIsDirOnBoth(path)) add(path);
  }
  if (leftInBase < left.entries.size) for (const path of left.entries.keys()) if (!base.has(path)) add(path);
  if (rightInBase < right.entries.size) for (const path of right.entries.keys()) if (!base.has(path)) add(path);
  return changed;
}

/**
 * Whether a path's parent is a directory on both sides (a top-level path: yes). A walk never finds an entry
 * whose parent it did not find as a directory; where that does not hold, the parent's decision may depend
 * on what is below it (planTwoWay keeps a directory something below it needs), so the path is planned.
 * Asked of consecutive paths, which mostly share a parent: the last answer is kept.
 */
function dirOnBothSides(left: Snapshot, right: Snapshot): (path: RelPath) => boolean {
  let lastParent: RelPath | null = null;
  let lastAnswer = true;
  return (path) => {
    const parent = parentOf(path);
    if (parent === null) return true;
    if (parent !== lastParent) {
      lastParent = parent;
      lastAnswer = isDirIn(left.entries, parent) && isDirIn(right.entries, parent);
    }
    return lastAnswer;
  };
}

/** A scan table answers from its kind column without building the entry (scan/scan-table.ts isDir). */
function isDirIn(entries: ReadonlyMap<RelPath, ScannedEntry>, path: RelPath): boolean {
  if ('isDir' in entries && typeof entries.isDir === 'function') return (entries as ReadonlyMap<RelPath, ScannedEntry> & { isDir(p: RelPath): boolean }).isDir(path);
  return entries.get(path)?.entry.kind === 'dir';
}

function isQuiet(l: ScannedEntry | undefined, r: ScannedEntry | undefined, b: BaseRecord): boolean {
  if (l === undefined || r === undefined) return false;
  if (b.left === null || b.right === null || b.left.ctimeNs === RACY_CTIME || b.right.ctimeNs === RACY_CTIME) return false;
  return unchangedSinceBase(l, b, 'left') && unchangedSinceBase(r, b, 'right') && metaAgrees(l.entry, r.entry) && recordsAgreed(b, l, r, WIDEST);
}
