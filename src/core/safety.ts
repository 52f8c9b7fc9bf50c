import type { Plan, Snapshot } from './types.js';

export type DeleteLimit = { readonly kind: 'count'; readonly count: number } | { readonly kind: 'percent'; readonly percent: number };

/** Without --max-delete, a plan may delete at most half of the destination's files. */
export const DEFAULT_DELETE_LIMIT: DeleteLimit = { kind: 'percent', percent: 50 };

export interface SafetyInput {
  readonly plan: Plan;
  readonly source: Snapshot;
  readonly target: Snapshot;
  readonly force: boolean;
  readonly deleteLimit: DeleteLimit;
}

export interface SafetyHalt {
  readonly reason: 'empty-source' | 'mass-delete';
  readonly message: string;
}

/**
 * Refuses plans that look like an accident rather than an intent: an empty source over a non-empty
 * destination (a mount that vanished must not wipe the backup), or deleting more files than allowed.
 * Pure: returns the halt as data, the caller decides how to stop.
 */
export function checkOneWaySafety({ plan, source, target, force, deleteLimit }: SafetyInput): SafetyHalt | null {
  if (force) return null;
  const targetFiles = countNonDirs(target);
  if (source.entries.size === 0 && source.problems.length === 0 && target.entries.size > 0) {
    return {
      reason: 'empty-source',
      message: `the source is empty but the destination holds ${target.entries.size} entries; refusing to empty it (use --force if that is really what you want)`,
    };
  }
  // A delete that makes room for a new entry of another kind at the same path is a replacement.
  const created = new Set(plan.actions.filter((a) => a.type === 'copy' || a.type === 'mkdir').map((a) => a.path));
  const deletes = plan.actions.filter((a) => a.type === 'delete' && a.expect !== null && a.expect.kind !== 'dir' && !created.has(a.path)).length;
  if (deletes === 0) return null;
  const allowed = deleteLimit.kind === 'count' ? deleteLimit.count : Math.floor((targetFiles * deleteLimit.percent) / 100);
  if (deletes <= allowed) return null;
  const share = targetFiles === 0 ? 100 : Math.round((deletes / targetFiles) * 100);
  const limitText = deleteLimit.kind === 'count' ? `${deleteLimit.count} files` : `${deleteLimit.percent}%`;
  return {
    reason: 'mass-delete',
    message: `the plan deletes ${deletes} of ${targetFiles} files in the destination (${share}%, over the limit of ${limitText}); refusing (raise --max-delete or use --force)`,
  };
}

function countNonDirs(s: Snapshot): number {
  let n = 0;
  for (const e of s.entries.values()) if (e.entry.kind !== 'dir') n++;
  return n;
}
