import { parentOf } from '../core/paths.js';
import type { Problem, RelPath, ScannedEntry } from '../core/types.js';
import type { PathFilter } from './path-filter.js';

/**
 * Removes, in place, what `filter` leaves out of a scan taken without ignore-file pruning: excluded
 * paths, everything below an excluded directory, and the problems found there. A pair with a remote
 * side is scanned this way on both sides and filtered afterwards by one filter that holds both sides'
 * ignore files, so a path is never visible on one side and hidden on the other (which, in two-way,
 * would read as a deletion).
 */
export function dropExcluded(entries: Map<RelPath, ScannedEntry>, problems: Problem[], filter: PathFilter): void {
  const dirVerdicts = new Map<RelPath, boolean>();
  const dirExcluded = (dir: RelPath): boolean => {
    const known = dirVerdicts.get(dir);
    if (known !== undefined) return known;
    const parent = parentOf(dir);
    const verdict = (parent !== null && dirExcluded(parent)) || filter.excludes(dir, true);
    dirVerdicts.set(dir, verdict);
    return verdict;
  };
  for (const [path, scanned] of entries) {
    const parent = parentOf(path);
    const out = scanned.entry.kind === 'dir' ? dirExcluded(path) : (parent !== null && dirExcluded(parent)) || filter.excludes(path, false);
    if (out) entries.delete(path);
  }
  // a problem's path may be a file or a directory that could not be read: either reading excludes it
  for (let i = problems.length - 1; i >= 0; i--) {
    const path = (problems[i] as Problem).path;
    const parent = parentOf(path);
    if ((parent !== null && dirExcluded(parent)) || filter.excludes(path, false) || filter.excludes(path, true)) problems.splice(i, 1);
  }
}
