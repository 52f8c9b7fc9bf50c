import { ancestorsOf, sortRel } from './paths.js';
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
  if (scope !== 'all') return sortRel([...scope].filter((p) => sources.some((s) => s.has(p))));
  // No set of the union: each path is taken from the first source that has it (one array, no rehashing).
  const all: RelPath[] = [];
  sources.forEach((src, i) => {
    for (const p of src.keys()) if (!knownBefore(sources, i, p)) all.push(p);
  });
  return sortRel(all);
}

function knownBefore(sources: readonly KnownPaths[], end: number, p: RelPath): boolean {
  for (let i = 0; i < end; i++) if (sources[i]?.has(p) === true) return true;
  return false;
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
