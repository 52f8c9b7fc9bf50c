import { blockedPaths, isBlocked } from './blocked.js';
import { sameContent, sameExtendedMeta, sameMtime } from './compare.js';
import { conflictName } from './conflict-name.js';
import { mergeMeta, metaAgrees } from './merge-meta.js';
import { orderActions } from './order.js';
import { parentOf } from './paths.js';
import { withEntry } from './scanned.js';
import { scopedPaths, type Scope } from './scope.js';
import { expectOf, propagate } from './propagate.js';
import type { Action, Base, BaseRecord, Conflict, ConflictPolicy, ConflictVersion, Plan, RelPath, ScannedEntry, Side, Snapshot } from './types.js';

export interface TwoWayInput {
  /** The last state both sides agreed on. Empty on a first sync. */
  readonly base: Base;
  readonly left: Snapshot;
  readonly right: Snapshot;
  readonly policy: ConflictPolicy;
  /** The run's clock, for conflict-copy names (kept an input so planning stays pure). */
  readonly nowMs: number;
  /** Which paths to plan for (watch cycles); default: all. */
  readonly scope?: Scope;
  /**
   * Whether the losing side has a trash: then the newer/left/right policies put the loser there;
   * without one (--no-trash) they keep it as a conflict copy, like keep-both. Never destroyed.
   */
  readonly trash?: boolean;
}

/** What happens to one path, before the directory fix-up and before it becomes actions. */
type Decision =
  | { readonly kind: 'agree' }
  | { readonly kind: 'gone' }
  | { readonly kind: 'propagate'; readonly from: Side }
  | { readonly kind: 'conflict'; readonly winner: Side }
  | { readonly kind: 'skip-conflict' };

const other = (s: Side): Side => (s === 'left' ? 'right' : 'left');

// Decisions carry no per-path data: one shared object each, not one allocated per path of the tree.
const AGREE: Decision = { kind: 'agree' };
const GONE: Decision = { kind: 'gone' };
const SKIP_CONFLICT: Decision = { kind: 'skip-conflict' };
const PROPAGATE: Readonly<Record<Side, Decision>> = { left: { kind: 'propagate', from: 'left' }, right: { kind: 'propagate', from: 'right' } };
const CONFLICT: Readonly<Record<Side, Decision>> = { left: { kind: 'conflict', winner: 'left' }, right: { kind: 'conflict', winner: 'right' } };

/**
 * Three-way reconcile of two trees against their base. Per path: unchanged on both sides → nothing;
 * changed on one side → propagate; changed to the same content → merge the metadata field by field
 * (merge-meta.ts); changed differently → the conflict policy. A deletion never beats a change:
 * modified-vs-deleted restores the modified version, and a directory that one side deleted survives
 * (recreated there) when the other side keeps anything in it.
 * Pure: no file system, no clock (nowMs is an input).
 */
export function planTwoWay({ base, left, right, policy, nowMs, scope = 'all', trash = false }: TwoWayInput): Plan {
  const blocked = blockedPaths([...left.problems, ...right.problems]);
  const paths = scopedPaths(scope, base, left.entries, right.entries);
  /** By index into `paths`; undefined for a blocked path. */
  const decisions = new Array<Decision | undefined>(paths.length);
  const skipped: RelPath[] = [];
  /** Directories that must exist on a side afterwards, because something below them will. */
  const needDir = { left: new Set<RelPath>(), right: new Set<RelPath>() };

  // Children before parents (a child's path sorts after its parent's), so each directory knows
  // whether anything below it survives before its own fate is settled.
  for (let i = paths.length - 1; i >= 0; i--) {
    const path = paths[i] as RelPath;
    if (isBlocked(blocked, path)) {
      skipped.push(path);
      // what is there stays there, so its parents must too
      for (const side of ['left', 'right'] as const) if (snap(side, left, right).entries.has(path)) markParent(needDir[side], path);
      continue;
    }
    const l = left.entries.get(path);
    const r = right.entries.get(path);
    let d = decide(l, r, base.get(path), policy);
    d = keepNeededDirs(d, path, l, r, needDir, policy);
    decisions[i] = d;
    for (const side of ['left', 'right'] as const) if (existsAfter(d, side, l, r)) markParent(needDir[side], path);
  }

  // Conflict-copy names must be free on both sides, in the whole tree, not just in scope.
  const extraTaken = new Set<RelPath>();
  const taken = {
    has: (p: RelPath): boolean => left.entries.has(p) || right.entries.has(p) || base.has(p) || extraTaken.has(p),
    add: (p: RelPath): void => void extraTaken.add(p),
  };
  const actions: Action[] = [];
  const agreed: RelPath[] = [];
  const conflicts: Conflict[] = [];
  /** Conflicts left as they are (policy skip): nothing at or below them changes on either side. */
  const frozen = new Set<RelPath>();
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i] as RelPath;
    const d = decisions[i];
    if (d === undefined) continue;
    if (frozen.size > 0 && isBlocked(frozen, path)) {
      skipped.push(path);
      continue;
    }
    const l = left.entries.get(path);
    const r = right.entries.get(path);
    switch (d.kind) {
      case 'gone':
        break;
      case 'agree':
        if (l !== undefined && r !== undefined) {
          const metas = metaFixes(path, l, r, base);
          if (metas.length === 0) agreed.push(path);
          else actions.push(...metas);
        }
        break;
      case 'propagate': {
        const from = d.from === 'left' ? l : r;
        const current = d.from === 'left' ? r : l;
        const todo = propagate({ path, from, target: other(d.from), current, dirMtimes: false });
        if (todo.length === 0 && l !== undefined && r !== undefined) agreed.push(path);
        actions.push(...todo);
        break;
      }
      case 'skip-conflict':
        if (l !== undefined && r !== undefined) conflicts.push(conflictRecord(path, l, r, policy, null, null));
        skipped.push(path);
        frozen.add(path);
        break;
      case 'conflict': {
        if (l === undefined || r === undefined) break; // cannot happen: conflicts need both versions
        const winner = d.winner === 'left' ? l : r;
        const loser = d.winner === 'left' ? r : l;
        const loserSide = other(d.winner);
        const toTrash = trash && policy !== 'keep-both';
        const copyName = toTrash ? null : conflictName(path, loserSide, nowMs, (p) => taken.has(p));
        if (copyName !== null) taken.add(copyName);
        const conflict = conflictRecord(path, l, r, policy, d.winner, copyName);
        conflicts.push(conflict);
        actions.push({ type: 'conflict', path, target: loserSide, expect: expectOf(loser), winner, loser, copyName, conflict });
        if (winner.entry.kind === 'dir') {
          const dir = withEntry(winner, winner.entry);
          actions.push({ type: 'mkdir', path, target: loserSide, expect: null, source: dir });
          actions.push({ type: 'meta', path, target: loserSide, expect: null, source: dir });
        }
        break;
      }
    }
  }
  return { actions: orderActions(actions), agreed, skipped, conflicts };
}

function snap(side: Side, left: Snapshot, right: Snapshot): Snapshot {
  return side === 'left' ? left : right;
}

function markParent(set: Set<RelPath>, path: RelPath): void {
  const parent = parentOf(path);
  if (parent !== null) set.add(parent);
}

function decide(l: ScannedEntry | undefined, r: ScannedEntry | undefined, b: BaseRecord | undefined, policy: ConflictPolicy): Decision {
  const lChanged = !unchangedSinceBase(l, b, 'left');
  const rChanged = !unchangedSinceBase(r, b, 'right');
  if (!lChanged && !rChanged) return l === undefined && r === undefined ? GONE : AGREE;
  if (lChanged && !rChanged) return PROPAGATE.left;
  if (rChanged && !lChanged) return PROPAGATE.right;
  // changed on both sides
  if (l === undefined && r === undefined) return GONE;
  if (l === undefined) return PROPAGATE.right; // a deletion never beats a change
  if (r === undefined) return PROPAGATE.left;
  if (sameContent(l.entry, r.entry)) return AGREE;
  return conflictDecision(l, r, policy);
}

function conflictDecision(l: ScannedEntry, r: ScannedEntry, policy: ConflictPolicy): Decision {
  if (policy === 'skip') return SKIP_CONFLICT;
  return CONFLICT[winnerOf(l, r, policy)];
}

/**
 * Who keeps the name. A directory always does (its contents are synced path by path; a file cannot
 * take its place without deleting them). Otherwise the policy's side, or the newer mtime with a
 * deterministic tie-break on content, so `sync A B` and `sync B A` pick the same winner.
 */
export function winnerOf(l: ScannedEntry, r: ScannedEntry, policy: ConflictPolicy): Side {
  if (l.entry.kind === 'dir' && r.entry.kind !== 'dir') return 'left';
  if (r.entry.kind === 'dir' && l.entry.kind !== 'dir') return 'right';
  if (policy === 'left' || policy === 'right') return policy;
  if (l.entry.mtimeNs !== r.entry.mtimeNs) return l.entry.mtimeNs > r.entry.mtimeNs ? 'left' : 'right';
  return contentKey(l) >= contentKey(r) ? 'left' : 'right';
}

/**
 * The tie-break key, the larger winning. A file's size comes first: a file is hashed before planning
 * only when something of its size could match it (hashes-needed.ts), so two files of different sizes
 * may carry one hash and no other, and the key must not depend on which was read. Equal sizes are
 * always both hashed, and their hashes decide.
 */
function contentKey(s: ScannedEntry): string {
  const e = s.entry;
  return e.kind === 'file' ? `f${String(e.size).padStart(20, '0')}${e.hash ?? ''}` : e.kind === 'symlink' ? `l${e.target}` : 'd';
}

/**
 * A directory that something below it needs on a side must exist there afterwards. If this path's
 * decision would remove it (a propagated deletion or a file replacing it), keep the directory instead:
 * restored from the side that still has it; a file that replaced it becomes the loser of a conflict.
 */
function keepNeededDirs(
  d: Decision,
  path: RelPath,
  l: ScannedEntry | undefined,
  r: ScannedEntry | undefined,
  needDir: { left: Set<RelPath>; right: Set<RelPath> },
  policy: ConflictPolicy,
): Decision {
  const needed = needDir.left.has(path) || needDir.right.has(path);
  if (!needed) return d;
  const isDir = (s: ScannedEntry | undefined): boolean => s?.entry.kind === 'dir';
  if (existsAsDirAfter(d, 'left', l, r) && existsAsDirAfter(d, 'right', l, r)) return d;
  if (isDir(l) && isDir(r)) return AGREE;
  const dirSide: Side | null = isDir(l) ? 'left' : isDir(r) ? 'right' : null;
  if (dirSide === null) return d; // nothing below can survive without a directory on some side
  const otherEntry = dirSide === 'left' ? r : l;
  if (otherEntry === undefined) return PROPAGATE[dirSide];
  return policy === 'skip' ? SKIP_CONFLICT : CONFLICT[dirSide];
}

function existsAfter(d: Decision, side: Side, l: ScannedEntry | undefined, r: ScannedEntry | undefined): boolean {
  return after(d, side, l, r) !== undefined;
}

function existsAsDirAfter(d: Decision, side: Side, l: ScannedEntry | undefined, r: ScannedEntry | undefined): boolean {
  return after(d, side, l, r)?.entry.kind === 'dir';
}

/** What a side will hold at the path once the decision is carried out. */
function after(d: Decision, side: Side, l: ScannedEntry | undefined, r: ScannedEntry | undefined): ScannedEntry | undefined {
  switch (d.kind) {
    case 'gone':
      return undefined;
    case 'agree':
    case 'skip-conflict':
      return side === 'left' ? l : r;
    case 'propagate':
      return d.from === 'left' ? l : r;
    case 'conflict':
      return d.winner === 'left' ? l : r;
  }
}

/**
 * Is a side's entry what the base recorded for it? Files compare by content hash, mode and that side's
 * own recorded mtime; directories by mode (their mtimes change with every listing change); symlinks by
 * target.
 */
export function unchangedSinceBase(x: ScannedEntry | undefined, b: BaseRecord | undefined, side: Side): boolean {
  if (x === undefined || b === undefined) return x === undefined && b === undefined;
  const e = x.entry;
  const be = b.entry;
  // owner, group and xattrs (where kept): a chown or setfattr alone is a change to sync
  if (!sameExtendedMeta(e, be)) return false;
  if (e.kind === 'file' && be.kind === 'file') {
    const recorded = (side === 'left' ? b.left : b.right)?.mtimeNs ?? be.mtimeNs;
    return e.size === be.size && e.hash !== null && e.hash === be.hash && e.mode === be.mode && sameMtime(e.mtimeNs, recorded);
  }
  if (e.kind === 'dir' && be.kind === 'dir') return e.mode === be.mode;
  if (e.kind === 'symlink' && be.kind === 'symlink') return e.target === be.target;
  return false;
}

/**
 * Same content on both sides: the metadata merged field by field against the base (merge-meta.ts).
 * A side that must change gets a meta action whose source carries the other side's scan (its true
 * stat, for the base record) with the merged entry for the target. Empty when both already agree.
 */
function metaFixes(path: RelPath, l: ScannedEntry, r: ScannedEntry, base: Base): Action[] {
  if (l.entry.kind !== r.entry.kind) return [];
  // The base decides only between values that differ: where none does (every quiet path), it is not read.
  if (metaAgrees(l.entry, r.entry)) return [];
  const merged = mergeMeta(l.entry, r.entry, base.get(path));
  const out: Action[] = [];
  if (merged.left !== null) out.push({ type: 'meta', path, target: 'left', expect: expectOf(l), source: withEntry(r, merged.left) });
  if (merged.right !== null) out.push({ type: 'meta', path, target: 'right', expect: expectOf(r), source: withEntry(l, merged.right) });
  return out;
}

function conflictRecord(path: RelPath, l: ScannedEntry, r: ScannedEntry, policy: ConflictPolicy, winner: Side | null, copyName: RelPath | null): Conflict {
  const resolution = winner === null ? 'skipped' : copyName === null ? 'loser-trashed' : 'kept-both';
  return { path, left: versionOf(l), right: versionOf(r), policy, resolution, winner, copyName };
}

function versionOf(s: ScannedEntry): ConflictVersion {
  const e = s.entry;
  return { kind: e.kind, size: e.kind === 'file' ? e.size : null, mtimeNs: e.mtimeNs, hash: e.kind === 'file' ? e.hash : null };
}
