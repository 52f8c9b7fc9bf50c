import { compareRel, parentOf } from './paths.js';
import { blockedPaths, isBlocked } from './blocked.js';
import { sameContent, sameMeta } from './compare.js';
import type { Action, Expectation, Plan, RelPath, ScannedEntry, Snapshot } from './types.js';

export interface OneWayInput {
  /** Left: the tree to copy from. Never written. */
  readonly source: Snapshot;
  /** Right: becomes an exact replica of the source. */
  readonly target: Snapshot;
}

/**
 * Plans the actions that make the target an exact replica of the source. Pure: it sees only the two
 * snapshots, with content hashes filled in wherever two same-sized files must be compared
 * (see hashes-needed.ts). A path at or below a scan problem on either side is left alone.
 */
export function planOneWay({ source, target }: OneWayInput): Plan {
  const blocked = blockedPaths([...source.problems, ...target.problems]);
  const deletes: Action[] = [];
  const mkdirs: Action[] = [];
  const copies: Action[] = [];
  const fileMetas: Action[] = [];
  const dirMetas = new Map<RelPath, Action>();
  const agreed: RelPath[] = [];
  const skipped: RelPath[] = [];
  /** Target directories whose listing this plan changes: their mtime must be restored at the end. */
  const touchedDirs = new Set<RelPath>();

  const paths = new Set<RelPath>([...source.entries.keys(), ...target.entries.keys()]);
  const sorted = [...paths].sort(compareRel);

  for (const path of sorted) {
    if (isBlocked(blocked, path)) {
      skipped.push(path);
      continue;
    }
    const s = source.entries.get(path);
    const t = target.entries.get(path);
    if (s === undefined) {
      if (t !== undefined) {
        deletes.push({ type: 'delete', path, target: 'right', expect: expectOf(t) });
        touch(touchedDirs, path);
      }
      continue;
    }
    if (t !== undefined && t.entry.kind !== s.entry.kind) {
      deletes.push({ type: 'delete', path, target: 'right', expect: expectOf(t) });
    }
    const present = t !== undefined && t.entry.kind === s.entry.kind ? t : undefined;
    if (s.entry.kind === 'dir') {
      if (present === undefined) {
        mkdirs.push({ type: 'mkdir', path, target: 'right', expect: null, source: { ...s, entry: s.entry } });
        touch(touchedDirs, path);
        // A new directory is created owner-writable and gets its real mode and mtime at the end,
        // after its children are in (a 0555 directory could not receive them otherwise).
        dirMetas.set(path, { type: 'meta', path, target: 'right', expect: null, source: s });
      } else if (!sameMeta(s.entry, present.entry)) {
        dirMetas.set(path, { type: 'meta', path, target: 'right', expect: expectOf(present), source: s });
      } else {
        agreed.push(path);
      }
      continue;
    }
    if (present === undefined) {
      copies.push({ type: 'copy', path, target: 'right', expect: null, source: s });
      touch(touchedDirs, path);
    } else if (!sameContent(s.entry, present.entry)) {
      copies.push({ type: 'copy', path, target: 'right', expect: expectOf(present), source: s });
      touch(touchedDirs, path);
    } else if (!sameMeta(s.entry, present.entry)) {
      fileMetas.push({ type: 'meta', path, target: 'right', expect: expectOf(present), source: s });
    } else {
      agreed.push(path);
    }
  }

  // Writing into a directory changes its mtime; restore the source's afterwards so a second run is a no-op.
  for (const dir of touchedDirs) {
    if (dirMetas.has(dir)) continue;
    const s = source.entries.get(dir);
    const t = target.entries.get(dir);
    if (s?.entry.kind === 'dir' && !isBlocked(blocked, dir)) {
      dirMetas.set(dir, { type: 'meta', path: dir, target: 'right', expect: t?.entry.kind === 'dir' ? expectOf(t) : null, source: s });
    }
  }

  deletes.sort((a, b) => compareRel(b.path, a.path)); // children before their parents
  const dirMetasDeepestFirst = [...dirMetas.values()].sort((a, b) => compareRel(b.path, a.path));
  return { actions: [...deletes, ...mkdirs, ...copies, ...fileMetas, ...dirMetasDeepestFirst], agreed, skipped };
}

function touch(dirs: Set<RelPath>, path: RelPath): void {
  const parent = parentOf(path);
  if (parent !== null) dirs.add(parent);
}

export function expectOf(s: ScannedEntry): Expectation {
  return { kind: s.entry.kind, ...s.stat };
}
