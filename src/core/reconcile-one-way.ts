import { blockedPaths, isBlocked } from './blocked.js';
import { planHardLinks, type LinkedFiles } from './hard-links.js';
import { orderActions } from './order.js';
import { parentOf } from './paths.js';
import { scopedPaths, type Scope } from './scope.js';
import { expectOf, propagate } from './propagate.js';
import type { Action, Plan, RelPath, Snapshot } from './types.js';

export interface OneWayInput {
  /** Left: the tree to copy from. Never written. */
  readonly source: Snapshot;
  /** Right: becomes an exact replica of the source. */
  readonly target: Snapshot;
  /** Which paths to plan for (watch cycles); default: all. */
  readonly scope?: Scope;
  /** Each side's files with nlink > 1, when the caller keeps them (watch cycles); default: found by a pass over both sides. */
  readonly linked?: LinkedFiles;
}

/**
 * Plans the actions that make the target an exact replica of the source. Pure: it sees only the two
 * snapshots, with content hashes filled in wherever two same-sized files must be compared
 * (see hashes-needed.ts). A path at or below a scan problem on either side is left alone.
 */
export function planOneWay({ source, target, scope = 'all', linked }: OneWayInput): Plan {
  const blocked = blockedPaths([...source.problems, ...target.problems]);
  const propagated: Action[] = [];
  const agreedAsScanned: RelPath[] = [];
  const skipped: RelPath[] = [];
  const paths = scopedPaths(scope, source.entries, target.entries);

  for (const path of paths) {
    if (isBlocked(blocked, path)) {
      skipped.push(path);
      continue;
    }
    const s = source.entries.get(path);
    const t = target.entries.get(path);
    const todo = propagate({ path, from: s, target: 'right', current: t, dirMtimes: true });
    if (todo.length === 0 && s !== undefined && t !== undefined) agreedAsScanned.push(path);
    for (const a of todo) propagated.push(a);
  }
  const { actions, agreed } = planHardLinks({ source, target, paths, isBlocked: (p) => isBlocked(blocked, p), actions: propagated, agreed: agreedAsScanned, linked });

  // Writing into a directory changes its mtime; restore the source's afterwards so a second run is a no-op.
  const finishing = new Set(actions.filter((a) => a.type === 'meta' && a.source.entry.kind === 'dir').map((a) => a.path));
  for (const a of [...actions]) {
    if (a.type === 'meta') continue;
    const dir = parentOf(a.path);
    if (dir === null || finishing.has(dir) || isBlocked(blocked, dir)) continue;
    const s = source.entries.get(dir);
    const t = target.entries.get(dir);
    if (s?.entry.kind !== 'dir') continue;
    finishing.add(dir);
    actions.push({ type: 'meta', path: dir, target: 'right', expect: t?.entry.kind === 'dir' ? expectOf(t) : null, source: s });
  }
  return { actions: orderActions(actions), agreed, skipped, conflicts: [] };
}
