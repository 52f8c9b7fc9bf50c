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
 * Expands dirty paths into a planning scope: each path, its ancestors, and, for a path that is or was a
 * directory, every known path below it. Only directories cost a pass over the known paths, so a cycle
 * for a few changed files stays cheap however large the tree.
 */
export function expandScope(dirty: Iterable<RelPath>, wasOrIsDir: (p: RelPath) => boolean, known: () => Iterable<RelPath>): Set<RelPath> {
  const scope = new Set<RelPath>();
  const dirs: RelPath[] = [];
  for (const p of dirty) {
    scope.add(p);
    for (const a of ancestorsOf(p)) scope.add(a);
    if (wasOrIsDir(p)) dirs.push(p);
  }
  if (dirs.length > 0) {
    for (const k of known()) if (dirs.some((d) => k.length > d.length && isAtOrBelow(k, d))) scope.add(k);
  }
  return scope;
}
