import type { Scope } from './scope.js';
import type { Base, RelPath, Side, Snapshot } from './types.js';

export interface HashRequest {
  readonly side: Side;
  readonly path: RelPath;
}

/**
 * Which files must be read before planning: only where content decides the plan, i.e. a file whose
 * hash the stat cache could not vouch for and that has a same-sized counterpart to compare with (the
 * other side's file, or the base's). Files without one, or whose sizes differ, are certainly new or
 * changed; they are hashed later while they are copied (one read, not two).
 */
export function hashesNeeded(left: Snapshot, right: Snapshot, base: Base, scope: Scope = 'all'): HashRequest[] {
  const out: HashRequest[] = [];
  const consider = (side: Side, mine: Snapshot, theirs: Snapshot): void => {
    for (const path of scope === 'all' ? mine.entries.keys() : scope) {
      const x = mine.entries.get(path);
      if (x === undefined || x.entry.kind !== 'file' || x.entry.hash !== null) continue;
      const size = x.entry.size;
      const counterpart = theirs.entries.get(path)?.entry;
      const recorded = base.get(path)?.entry;
      if ((counterpart?.kind === 'file' && counterpart.size === size) || (recorded?.kind === 'file' && recorded.size === size)) {
        out.push({ side, path });
      }
    }
  };
  consider('left', left, right);
  consider('right', right, left);
  return out;
}
