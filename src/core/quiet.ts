import { agreeingBaseOf, recordsAgreed } from './commit.js';
import { isLinkedFile } from './hard-links.js';
import { metaAgrees } from './merge-meta.js';
import { ancestorsOf, parentOf } from './paths.js';
import { propagate } from './propagate.js';
import { unchangedSinceBase } from './reconcile-two-way.js';
import { isRacy, RACY_CTIME, RACY_WINDOW_NS } from './stat-cache.js';
import type { Scope } from './scope.js';
import type { Base, BaseRecord, RelPath, ScannedEntry, Side, Snapshot } from './types.js';

/**
 * A faster way to the same answer for some paths: true only when the path is quiet by the rules below, false when
 * it cannot tell (the general test then decides). Scans and a base kept as columns give one (sync/quiet-columns.ts).
 * `unsettled`, where given, says more: every path of the base and of both sides that it does not list is quiet, its
 * parent a directory on both sides, so only the listed ones are tested, and none at all when the list is empty (a
 * no-op run's). The pass over every path as a string took 35-50 ms of the main thread at 100k paths for a no-op
 * run, and 114 ms for a run with 1% of its paths changed (issue 11): the scope then costs what changed.
 */
export type QuietProof = ((path: RelPath) => boolean) & { readonly unsettled?: readonly RelPath[] };

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
export function changedSinceBase(base: Base, left: Snapshot, right: Snapshot, limit = Number.POSITIVE_INFINITY, proven: QuietProof | null = null): Set<RelPath> | null {
  const { changed, add } = growingScope(limit);
  const parentIsDirOnBoth = dirOnBothSides(left, right);
  const unsettled = proven?.unsettled;
  if (unsettled !== undefined) {
    for (const path of unsettled) {
      const b = base.get(path);
      if (b === undefined ? left.entries.has(path) || right.entries.has(path) : !isQuiet(left.entries.get(path), right.entries.get(path), b) || !parentIsDirOnBoth(path)) {
        if (!add(path)) return null;
      }
    }
    return changed;
  }
  // how many of each side's paths the base holds: when that is all of them, no pass over the side is needed for new ones
  let leftInBase = 0;
  let rightInBase = 0;
  for (const path of base.keys()) {
    if (proven?.(path) === true && parentIsDirOnBoth(path)) {
      leftInBase++; // a proven path is on both sides
      rightInBase++;
      continue;
    }
    const b = base.get(path) as BaseRecord;
    const l = left.entries.get(path);
    const r = right.entries.get(path);
    if (l !== undefined) leftInBase++;
    if (r !== undefined) rightInBase++;
    if ((!isQuiet(l, r, b) || !parentIsDirOnBoth(path)) && !add(path)) return null;
  }
  if (leftInBase < left.entries.size) for (const path of left.entries.keys()) if (!base.has(path) && !add(path)) return null;
  if (rightInBase < right.entries.size) for (const path of right.entries.keys()) if (!base.has(path) && !add(path)) return null;
  return changed;
}

/**
 * One-way: the paths a full cycle must plan for (see changedSinceBase). A source path is quiet when the
 * target holds the same at it (propagate finds nothing to do, as planOneWay would ask it), neither side's
 * scan is racy under the widest window, neither is a file with other names (hard links are planned by
 * group, core/hard-links.ts), the base record is the one this scan would make, and its parent is a
 * directory on both sides. planOneWay then lists it as agreed, and NextBase keeps its record. The target's
 * paths the source lacks (deletions) and the base's paths neither side has (records to drop) are planned.
 */
export function changedSinceMirror(base: Base, source: Snapshot, target: Snapshot, limit = Number.POSITIVE_INFINITY, proven: QuietProof | null = null): Set<RelPath> | null {
  const { changed, add } = growingScope(limit);
  const agreeing = agreeingBaseOf(base);
  const recordAgrees = (path: RelPath, s: ScannedEntry, t: ScannedEntry): boolean => {
    const known = agreeing?.recordAgrees(path, s, t, WIDEST) ?? null;
    if (known !== null) return known;
    const old = base.get(path);
    return old !== undefined && recordsAgreed(old, s, t, WIDEST);
  };
  const parentIsDirOnBoth = dirOnBothSides(source, target);
  const quietAt = (path: RelPath, s: ScannedEntry, t: ScannedEntry | undefined): boolean =>
    t !== undefined && isQuietMirror(path, s, t) && recordAgrees(path, s, t) && parentIsDirOnBoth(path);
  const unsettled = proven?.unsettled;
  if (unsettled !== undefined) {
    for (const path of unsettled) {
      const s = source.entries.get(path);
      // a path the source lacks is the target's alone (a deletion) or the base's alone (a record to drop): planned
      if (s === undefined ? target.entries.has(path) || base.has(path) : !quietAt(path, s, target.entries.get(path))) {
        if (!add(path)) return null;
      }
    }
    return changed;
  }
  /** Target paths the source also has, and base paths either side has: what tells whether the passes below are needed. */
  let targetInSource = 0;
  let baseSeen = 0;
  for (const path of source.entries.keys()) {
    if (proven?.(path) === true && parentIsDirOnBoth(path)) {
      targetInSource++; // a proven path is on both sides, and in the base
      baseSeen++;
      continue;
    }
    const t = target.entries.get(path);
    if (t !== undefined) targetInSource++;
    if (quietAt(path, source.entries.get(path) as ScannedEntry, t)) {
      baseSeen++; // a record agreed with, so the base has it
      continue;
    }
    if (base.has(path)) baseSeen++;
    if (!add(path)) return null;
  }
  if (targetInSource < target.entries.size) {
    for (const path of target.entries.keys()) {
      if (source.entries.has(path)) continue;
      if (base.has(path)) baseSeen++;
      if (!add(path)) return null;
    }
  }
  if (baseSeen < base.size) for (const path of base.keys()) if (!source.entries.has(path) && !target.entries.has(path) && !add(path)) return null;
  return changed;
}

function isQuietMirror(path: RelPath, s: ScannedEntry, t: ScannedEntry): boolean {
  if (isRacy(s.stat.ctimeNs, s.observedAtNs, RACY_WINDOW_NS) || isRacy(t.stat.ctimeNs, t.observedAtNs, RACY_WINDOW_NS)) return false;
  if (isLinkedFile(s) || isLinkedFile(t)) return false;
  return propagate({ path, from: s, target: 'right', current: t, dirMtimes: true }).length === 0;
}

/**
 * A scope that takes each path added with its ancestors, as a watch's does (scope.ts expandScope). `add` says
 * false once it holds more than `limit` paths: the caller then gives up on narrowing.
 */
function growingScope(limit: number): { changed: Set<RelPath>; add: (path: RelPath) => boolean } {
  const changed = new Set<RelPath>();
  const add = (path: RelPath): boolean => {
    if (!changed.has(path)) {
      changed.add(path);
      for (const a of ancestorsOf(path)) changed.add(a);
    }
    return changed.size <= limit;
  };
  return { changed, add };
}

/**
 * The scope a full cycle plans: the paths that are not quiet (changedSinceBase, changedSinceMirror), or all of
 * them when that is most of the tree. A first copy changes every path, and a set of 100k paths is memory the
 * plan does not need (a scope of all is what planning every path did before there were quiet paths).
 */
export function fullCycleScope(mode: 'one-way' | 'two-way', base: Base, left: Snapshot, right: Snapshot, proven: QuietProof | null = null): Scope {
  const limit = fullCycleScopeLimit(base, left, right);
  return (mode === 'two-way' ? changedSinceBase(base, left, right, limit, proven) : changedSinceMirror(base, left, right, limit, proven)) ?? 'all';
}

/** The size past which a full cycle plans every path rather than a scope (fullCycleScope). */
export function fullCycleScopeLimit(base: Base, left: Snapshot, right: Snapshot): number {
  return Math.max(base.size, left.entries.size, right.entries.size) / 2;
}

/**
 * Whether a path's parent is a directory on both sides (a top-level path: yes). A walk never finds an entry
 * whose parent it did not find as a directory; where that does not hold, the parent's decision may depend
 * on what is below it (planTwoWay keeps a directory something below it needs), so the path is planned.
 * Asked of consecutive paths, which mostly share a parent: the last answer is kept.
 */
function dirOnBothSides(left: Snapshot, right: Snapshot): (path: RelPath) => boolean {
  // the last parent asked about, with its '/': a path directly below it is told without cutting out its parent
  let lastPrefix: string | null = null;
  let lastAnswer = true;
  return (path) => {
    if (lastPrefix !== null && path.startsWith(lastPrefix) && path.indexOf('/', lastPrefix.length) < 0) return lastAnswer;
    const parent = parentOf(path);
    if (parent === null) return true;
    lastPrefix = `${parent}/`;
    lastAnswer = isDirIn(left.entries, parent) && isDirIn(right.entries, parent);
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
