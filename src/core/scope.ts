import { ancestorsOf, compareRel, isAtOrBelow } from './paths.js';
import type { RelPath } from './types.js';

/**
 * The paths a planner looks at. A full run looks at everything; a watch cycle only at the paths that
 * were reported dirty, with their ancestors (a new file may need a directory that the other side
 * deleted) and their descendants (a dirty directory's contents may have changed as a whole).
 */
export type Scope = ReadonlySet<RelPath> | 'all';

export function scopedPaths(scope: Scope, ...sources: Iterable<RelPath>[]): RelPath[] {
  const all = new Set<RelPath>();
  for (const src of sources) for (const p of src) if (scope === 'all' || scope.has(p)) all.add(p);
  return [...all].sort(compareRel);
}

/**
 * Expands dirty paths into a planning scope: each path, its ancestors, and every known path below it.
 * `known` lists the paths of the base and both snapshots, sorted; descendants are found by a binary
 * search for the path's `/` prefix, so the cost grows with the dirty set, not with the tree.
 */
export function expandScope(dirty: Iterable<RelPath>, knownSorted: readonly RelPath[]): Set<RelPath> {
  const scope = new Set<RelPath>();
  for (const p of dirty) {
    scope.add(p);
    for (const a of ancestorsOf(p)) scope.add(a);
    const prefix = `${p}/`;
    for (let i = lowerBound(knownSorted, prefix); i < knownSorted.length; i++) {
      const k = knownSorted[i] as RelPath;
      if (!isAtOrBelow(k, p)) break;
      scope.add(k);
    }
  }
  return scope;
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
