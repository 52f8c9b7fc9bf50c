import { ancestorsOf } from './paths.js';
import type { Base, Plan, RelPath, Side, Snapshot } from './types.js';

export type DeleteLimit = { readonly kind: 'count'; readonly count: number } | { readonly kind: 'percent'; readonly percent: number };

/** Without --max-delete, a plan may delete at most half of a side's files. */
export const DEFAULT_DELETE_LIMIT: DeleteLimit = { kind: 'percent', percent: 50 };

export interface SafetyInput {
  readonly mode: 'one-way' | 'two-way';
  readonly plan: Plan;
  readonly base: Base;
  readonly left: Snapshot;
  readonly right: Snapshot;
  readonly force: boolean;
  readonly deleteLimit: DeleteLimit;
}

export interface SafetyHalt {
  readonly reason: 'empty-root' | 'mass-delete';
  readonly message: string;
}

/**
 * Refuses plans that look like an accident rather than an intent: an emptied root (a mount that
 * vanished must not wipe the backup or, in two-way mode, the other side), or deleting more files
 * than allowed. Pure: returns the halt as data; the caller decides how to stop.
 */
export function checkSafety(input: SafetyInput): SafetyHalt | null {
  if (input.force) return null;
  return emptiedRoot(input) ?? massDelete(input, 'right') ?? (input.mode === 'two-way' ? massDelete(input, 'left') : null);
}

function emptiedRoot({ mode, base, left, right }: SafetyInput): SafetyHalt | null {
  const isEmpty = (s: Snapshot): boolean => s.entries.size === 0 && s.problems.length === 0;
  if (mode === 'one-way') {
    if (!isEmpty(left) || right.entries.size === 0) return null;
    return {
      reason: 'empty-root',
      message: `the source is empty but the destination holds ${right.entries.size} entries; refusing to empty it (an unmounted disk?); use --force if that is really what you want`,
    };
  }
  if (base.size === 0) return null;
  for (const [side, snap] of [
    ['left', left],
    ['right', right],
  ] as const) {
    if (isEmpty(snap)) {
      return {
        reason: 'empty-root',
        message: `the ${side === 'left' ? 'first' : 'second'} root is empty but held ${base.size} entries at the last sync; refusing to propagate that (an unmounted disk?); use --force if it is really meant`,
      };
    }
  }
  return null;
}

function massDelete({ plan, deleteLimit, base, left, right }: SafetyInput, side: Side): SafetyHalt | null {
  const snap = side === 'left' ? left : right;
  // The files this side's plan deletes. Most plans delete none, and then nothing else is looked at: an initial copy
  // of 100k files no longer builds a set of every path it creates to find that out (issue 11).
  const deleted = new Set<RelPath>();
  for (const a of plan.actions) if (a.type === 'delete' && a.target === side && a.expect !== null && a.expect.kind !== 'dir') deleted.add(a.path);
  if (deleted.size === 0) return null;
  // A delete that makes room for a new entry of another kind at the same path is a replacement.
  for (const a of plan.actions) if (a.target === side && (a.type === 'copy' || a.type === 'mkdir' || a.type === 'link')) deleted.delete(a.path);
  const deletes = deleted.size;
  if (deletes === 0) return null;
  const allowedOf = (files: number): number => (deleteLimit.kind === 'count' ? deleteLimit.count : Math.floor((files * deleteLimit.percent) / 100));
  if (deleteLimit.kind === 'count' && deletes <= deleteLimit.count) return null;
  // Counted only until the files seen allow the deletes: a watch cycle deleting one file must not pay a pass over the side.
  // What the side holds but its scan could not read counts too: without it, a scan that failed to read part of the tree
  // made an ordinary deletion look like most of the side (a crash trial: 47 of 91 files seen, many more unreadable).
  let files = unreadableOn(snap);
  for (const e of snap.entries.values()) {
    if (e.entry.kind === 'dir') continue;
    files++;
    if (deletes <= allowedOf(files)) return null;
  }
  // A directory that could not be listed hides what it holds; the base remembers that (a fault trial: 30 deletes
  // against 45 files seen, with most of the side's directories unlisted).
  files += unseenBelowUnlisted(snap, base);
  const allowed = allowedOf(files);
  if (deletes <= allowed) return null;
  const share = files === 0 ? 100 : Math.round((deletes / files) * 100);
  const limitText = deleteLimit.kind === 'count' ? `${deleteLimit.count} files` : `${deleteLimit.percent}%`;
  const where = side === 'right' ? 'the destination' : 'the first root';
  return {
    reason: 'mass-delete',
    message: `the plan deletes ${deletes} of ${files} files in ${where} (${share}%, over the limit of ${limitText}); refusing (raise --max-delete or use --force)`,
  };
}

/**
 * How many paths the scan found on this side but could not read (nothing is deleted at or below them, types.ts
 * Snapshot): each is at least one entry of the side, whatever its kind, and a directory that could not be listed holds
 * more. A path that vanished, or a special file, is not counted.
 */
function unreadableOn(snap: Snapshot): number {
  const paths = new Set<RelPath>();
  for (const p of snap.problems) if ((p.code === 'unreadable' || p.code === 'io-error') && !snap.entries.has(p.path)) paths.add(p.path);
  return paths.size;
}

/**
 * The files the base holds below this side's unreadable paths that the scan did not see: what a directory that could
 * not be listed still holds, as far as anything knows. Paid only by a plan that the files seen do not allow.
 */
function unseenBelowUnlisted(snap: Snapshot, base: Base): number {
  const unlisted = new Set<RelPath>();
  for (const p of snap.problems) if (p.code === 'unreadable' || p.code === 'io-error') unlisted.add(p.path);
  if (unlisted.size === 0) return 0;
  let count = 0;
  for (const [path, record] of base) {
    if (record.entry.kind === 'dir' || snap.entries.has(path) || unlisted.has(path)) continue;
    if (ancestorsOf(path).some((dir) => unlisted.has(dir))) count++;
  }
  return count;
}
