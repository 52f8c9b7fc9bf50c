import { ancestorsOf, compareRel } from './paths.js';
import type { RelPath } from './types.js';

/**
 * The paths a planner looks at. A full run looks at everything; a watch cycle only at the paths that
 * were reported dirty, with their ancestors (a new file may need a directory that the other side
 * deleted) and their descendants (a dirty directory's contents may have changed as a whole).
 */
export type Scope = ReadonlySet<RelPath> | 'all';

/** A collection of known paths: a Map keyed by path or a Set of paths. */
export interface KnownPaths {
  has(p: RelPath): boolean;
  keys(): Iterable<RelPath>;
}

/** The paths of the scope that any source knows, sorted; a narrow scope costs its own size, not the sources'. */
export function scopedPaths(scope: Scope, ...sources: KnownPaths[]): RelPath[] {
  if (scope !== 'all') return [...scope].filter((p) => sources.some((s) => s.has(p))).sort(compareRel);
  const all = new Set<RelPath>();
  for (const src of sources) for (const p of src.keys()) all.add(p);
  return [...all].sort(compareRel);
}

/**
 * Expands dirty paths into a planning scope: each path, its ancestors, and, for a path that is or was a
 * directory, every known path below it (`knownBelow`, e.g. a ChildIndex walk: what a directory holds,
 * not a pass over the whole tree), so a cycle costs what changed however large the tree.
 */
export function expandScope(dirty: Iterable<RelPath>, wasOrIsDir: (p: RelPath) => boolean, knownBelow: (dir: RelPath) => Iterable<RelPath>): Set<RelPath> {
  const scope = new Set<RelPath>();
  for (const p of dirty) {
    scope.add(p);
    for (const a of ancestorsOf(p)) scope.add(a);
    if (wasOrIsDir(p)) for (const k of knownBelow(p)) scope.add(k);
  }
  return scope;
}
