import type { RelPath, Side, Snapshot } from './types.js';

export interface HashRequest {
  readonly side: Side;
  readonly path: RelPath;
}

/**
 * Which files must be read before planning: only where content decides the plan, i.e. a file on each
 * side with equal sizes and at least one hash the stat cache could not vouch for. Files that exist on
 * one side only, or whose sizes differ, are hashed later while they are copied (one read, not two).
 */
export function hashesNeeded(left: Snapshot, right: Snapshot): HashRequest[] {
  const out: HashRequest[] = [];
  for (const [path, l] of left.entries) {
    const r = right.entries.get(path);
    if (r === undefined || l.entry.kind !== 'file' || r.entry.kind !== 'file') continue;
    if (l.entry.size !== r.entry.size) continue;
    if (l.entry.hash === null) out.push({ side: 'left', path });
    if (r.entry.hash === null) out.push({ side: 'right', path });
  }
  return out;
}
